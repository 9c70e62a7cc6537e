import type { ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Redis, type RedisOptions } from "ioredis";
import { freePort } from "./ports.js";
import { stopChild } from "./processes.js";
import { EPHEMERAL_REDIS_ARGS, startRedisProcess, stopRedisSet, tlsOnlyArgs } from "./redis-process.js";
import { makeTestCertificate, type TestCertificate } from "./tls-cert.js";
import { waitUntil } from "./wait.js";

/**
 * One primary, one replica and three sentinels on free ports, nothing saved to disk (sentinels
 * need a writable config file: a temp directory). Fail-over is fast: a primary is down after 1 s.
 * With `password`, every server and sentinel requires it (as `redis-sentinel://:pw@…` expects);
 * with `tls`, servers and sentinels speak TLS only, with a throwaway self-signed `certificate`.
 */
export class RedisSentinelSet {
  private readonly children = new Map<string, ChildProcess>();

  private constructor(
    readonly dir: string,
    readonly primaryPort: number,
    readonly replicaPort: number,
    readonly sentinelPorts: number[],
    private readonly password: string | undefined,
    readonly certificate: TestCertificate | undefined,
  ) {}

  static async start({
    masterName = "mymaster",
    password,
    tls = false,
  }: { masterName?: string; password?: string; tls?: boolean } = {}): Promise<RedisSentinelSet> {
    const dir = mkdtempSync(join(tmpdir(), "sio-sentinel-"));
    const set = new RedisSentinelSet(
      dir,
      await freePort(),
      await freePort(),
      [await freePort(), await freePort(), await freePort()],
      password,
      tls ? makeTestCertificate(dir) : undefined,
    );
    try {
      const common = [...EPHEMERAL_REDIS_ARGS, ...(password ? ["--requirepass", password, "--masterauth", password] : [])];
      set.children.set("primary", await startRedisProcess([...set.listenArgs(set.primaryPort), ...common], /Ready to accept connections/));
      set.children.set(
        "replica",
        await startRedisProcess(
          [...set.listenArgs(set.replicaPort), ...common, "--replicaof", "127.0.0.1", String(set.primaryPort)],
          /Ready to accept connections/,
        ),
      );
      for (const [index, port] of set.sentinelPorts.entries()) {
        const file = join(dir, `sentinel-${index}.conf`);
        writeFileSync(
          file,
          [
            // A config file takes the same directives as the command line, without the dashes.
            ...pairs(set.listenArgs(port)),
            "bind 127.0.0.1",
            `sentinel monitor ${masterName} 127.0.0.1 ${set.primaryPort} 2`,
            `sentinel down-after-milliseconds ${masterName} 1000`,
            `sentinel failover-timeout ${masterName} 5000`,
            ...(password ? [`sentinel auth-pass ${masterName} ${JSON.stringify(password)}`, `requirepass ${JSON.stringify(password)}`] : []),
            "",
          ].join("\n"),
        );
        set.children.set(`sentinel-${index}`, await startRedisProcess([file, "--sentinel"], /Sentinel ID is|Ready to accept connections/));
      }
      // The replica must have synced before a fail-over can promote it.
      const replica = new Redis(set.replicaPort, "127.0.0.1", set.clientOptions());
      await waitUntil(async () => /master_link_status:up/.test(await replica.info("replication")), "the replica is in sync");
      await replica.quit();
    } catch (error) {
      await set.stop();
      throw error;
    }
    return set;
  }

  /** Plain TCP on `port`, or TLS only. */
  private listenArgs(port: number): string[] {
    return this.certificate ? tlsOnlyArgs(port, this.certificate) : ["--port", String(port)];
  }

  /** How a test's own ioredis connection reaches a server or sentinel of this set. */
  private clientOptions(): RedisOptions {
    return { password: this.password, ...(this.certificate ? { tls: { ca: readFileSync(this.certificate.cert) } } : {}) };
  }

  url(masterName = "mymaster"): string {
    const credentials = this.password ? `:${encodeURIComponent(this.password)}@` : "";
    return `${this.certificate ? "rediss" : "redis"}-sentinel://${credentials}${this.sentinelPorts.map((port) => `127.0.0.1:${port}`).join(",")}/${masterName}`;
  }

  /** Kills the primary (SIGKILL) and waits for its exit. */
  async killPrimary(): Promise<void> {
    await stopChild(this.children.get("primary")!, "SIGKILL");
    this.children.delete("primary");
  }

  /** The address the sentinels report for the master now. */
  async currentPrimaryPort(masterName = "mymaster"): Promise<number> {
    const sentinel = new Redis(this.sentinelPorts[0], "127.0.0.1", this.clientOptions());
    try {
      const [, port] = (await sentinel.call("SENTINEL", "get-master-addr-by-name", masterName)) as [string, string];
      return Number(port);
    } finally {
      sentinel.disconnect();
    }
  }

  stop(): Promise<void> {
    return stopRedisSet(this.children, this.dir);
  }
}

/** `["--port", "0", "--tls-port", "7000"]` → `["port 0", "tls-port 7000"]`. */
function pairs(args: string[]): string[] {
  const lines: string[] = [];
  for (let i = 0; i < args.length; i += 2) lines.push(`${args[i].slice(2)} ${args[i + 1]}`);
  return lines;
}
