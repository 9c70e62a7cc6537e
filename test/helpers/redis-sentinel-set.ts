import type { ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Redis } from "ioredis";
import { freePort } from "./ports.js";
import { stopChild } from "./processes.js";
import { EPHEMERAL_REDIS_ARGS, startRedisProcess } from "./redis-process.js";
import { waitUntil } from "./wait.js";

/**
 * One primary, one replica and three sentinels on free ports, nothing saved to disk (sentinels
 * need a writable config file: a temp directory). Fail-over is fast: a primary is down after 1 s.
 * With `password`, every server and sentinel requires it (as `redis-sentinel://:pw@…` expects).
 */
export class RedisSentinelSet {
  private readonly children = new Map<string, ChildProcess>();

  private constructor(readonly dir: string, readonly primaryPort: number, readonly replicaPort: number, readonly sentinelPorts: number[], private readonly password?: string) {}

  static async start({ masterName = "mymaster", password }: { masterName?: string; password?: string } = {}): Promise<RedisSentinelSet> {
    const dir = mkdtempSync(join(tmpdir(), "sio-sentinel-"));
    const set = new RedisSentinelSet(dir, await freePort(), await freePort(), [await freePort(), await freePort(), await freePort()], password);
    try {
      const common = [...EPHEMERAL_REDIS_ARGS, ...(password ? ["--requirepass", password, "--masterauth", password] : [])];
      set.children.set("primary", await startRedisProcess(["--port", String(set.primaryPort), ...common], /Ready to accept connections/));
      set.children.set("replica", await startRedisProcess(["--port", String(set.replicaPort), ...common, "--replicaof", "127.0.0.1", String(set.primaryPort)], /Ready to accept connections/));
      for (const [index, port] of set.sentinelPorts.entries()) {
        const file = join(dir, `sentinel-${index}.conf`);
        writeFileSync(
          file,
          [
            `port ${port}`,
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
      const replica = new Redis(set.replicaPort, "127.0.0.1", { password });
      await waitUntil(async () => /master_link_status:up/.test(await replica.info("replication")), "the replica is in sync");
      await replica.quit();
    } catch (error) {
      await set.stop();
      throw error;
    }
    return set;
  }

  url(masterName = "mymaster"): string {
    const credentials = this.password ? `:${encodeURIComponent(this.password)}@` : "";
    return `redis-sentinel://${credentials}${this.sentinelPorts.map((port) => `127.0.0.1:${port}`).join(",")}/${masterName}`;
  }

  /** Kills the primary (SIGKILL) and waits for its exit. */
  async killPrimary(): Promise<void> {
    await stopChild(this.children.get("primary")!, "SIGKILL");
    this.children.delete("primary");
  }

  /** The address the sentinels report for the master now. */
  async currentPrimaryPort(masterName = "mymaster"): Promise<number> {
    const sentinel = new Redis(this.sentinelPorts[0]!, "127.0.0.1", { password: this.password });
    try {
      const [, port] = (await sentinel.call("SENTINEL", "get-master-addr-by-name", masterName)) as [string, string];
      return Number(port);
    } finally {
      sentinel.disconnect();
    }
  }

  async stop(): Promise<void> {
    await Promise.all([...this.children.values()].map((child) => stopChild(child, "SIGKILL")));
    this.children.clear();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
