import type { ChildProcess } from "node:child_process";
import { freePort } from "./ports.js";
import { stopChild } from "./processes.js";
import { EPHEMERAL_REDIS_ARGS, startRedisProcess } from "./redis-process.js";

/**
 * A private `redis-server` on a free port, nothing saved to disk, so a test can stop and
 * restart it without touching the machine's shared Redis.
 */
export class RedisServer {
  private child: ChildProcess | undefined;

  private constructor(readonly port: number) {}

  static async start(): Promise<RedisServer> {
    const server = new RedisServer(await freePort());
    await server.startProcess();
    return server;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** (Re)starts the process on the same port and resolves when it accepts connections. */
  async startProcess(): Promise<void> {
    this.child = await startRedisProcess(["--port", String(this.port), ...EPHEMERAL_REDIS_ARGS, "--loglevel", "notice"]);
  }

  /** Stops the process and waits for it to exit. */
  async stop(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (child) await stopChild(child, "SIGKILL");
  }
}
