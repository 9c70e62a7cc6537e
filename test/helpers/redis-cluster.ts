import { execFile, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { Redis, type RedisOptions } from "ioredis";
import { freePort } from "./ports.js";
import { stopChild } from "./processes.js";
import { EPHEMERAL_REDIS_ARGS, startRedisProcess, stopRedisSet, tlsOnlyArgs } from "./redis-process.js";
import { makeTestCertificate, type TestCertificate } from "./tls-cert.js";
import { waitUntil } from "./wait.js";

const run = promisify(execFile);

export interface RedisClusterOptions {
  primaries?: number;
  /** One replica per primary. */
  replicas?: boolean;
  /** `requirepass` (and `masterauth`) on every node. */
  password?: string;
  /** TLS only, clients and cluster bus, with a throwaway self-signed certificate (`certificate`). */
  tls?: boolean;
}

/**
 * A real Redis Cluster on free ports: `primaries` primaries (and as many replicas with
 * `replicas: true`), each node with its own cluster-config file in a temp directory, created
 * with `redis-cli --cluster create`. A node is judged failed after 1 s (cluster-node-timeout),
 * so a replica takes over a killed primary within a few seconds.
 */
export class RedisClusterSet {
  private readonly children = new Map<number, ChildProcess>();
  /** Each node's command line, to restart it as itself (its cluster-config file remembers who it is). */
  private readonly args = new Map<number, string[]>();

  private constructor(
    readonly dir: string,
    readonly ports: number[],
    private readonly password: string | undefined,
    readonly certificate: TestCertificate | undefined,
  ) {}

  static async start({ primaries = 3, replicas = false, password, tls = false }: RedisClusterOptions = {}): Promise<RedisClusterSet> {
    const dir = mkdtempSync(join(tmpdir(), "sio-cluster-"));
    const count = replicas ? primaries * 2 : primaries;
    const ports: number[] = [];
    for (let i = 0; i < count; i++) ports.push(await freePort());
    const set = new RedisClusterSet(dir, ports, password, tls ? makeTestCertificate(dir) : undefined);
    try {
      for (const port of ports) {
        const busPort = await freePort();
        const args = [...set.listenArgs(port), "--cluster-port", String(busPort), ...EPHEMERAL_REDIS_ARGS, "--dir", dir];
        args.push("--cluster-enabled", "yes", "--cluster-config-file", `nodes-${port}.conf`, "--cluster-node-timeout", "1000");
        if (password) args.push("--requirepass", password, "--masterauth", password);
        set.args.set(port, args);
        set.children.set(port, await startRedisProcess(args));
      }
      const nodes = ports.map((port) => `127.0.0.1:${port}`);
      const auth = [...(password ? ["-a", password, "--no-auth-warning"] : []), ...(set.certificate ? ["--tls", "--cacert", set.certificate.cert] : [])];
      await run("redis-cli", [...auth, "--cluster", "create", ...nodes, "--cluster-replicas", replicas ? "1" : "0", "--cluster-yes"], { timeout: 30_000 });
      await set.waitUntilHealthy(count, count - primaries);
      return set;
    } catch (error) {
      await set.stop();
      throw error;
    }
  }

  /** Plain TCP on `port`, or TLS only (clients, replication and cluster bus) on `port`. */
  private listenArgs(port: number): string[] {
    if (!this.certificate) return ["--port", String(port)];
    return [...tlsOnlyArgs(port, this.certificate), "--tls-cluster", "yes"];
  }

  /** The seed list the gateway and the emitter take (two nodes are enough: the rest is discovered). */
  url(query = "", password = this.password): string {
    const credentials = password ? `:${encodeURIComponent(password)}@` : "";
    return `${this.certificate ? "rediss" : "redis"}-cluster://${credentials}127.0.0.1:${this.ports[0]},127.0.0.1:${this.ports[1]}${query}`;
  }

  /** Every node answers `cluster_state:ok` and knows all `known` nodes, and `replicas` of them are replicas in sync. */
  async waitUntilHealthy(known: number, replicas: number, timeout = 20_000): Promise<void> {
    await waitUntil(
      async () => {
        const answers = await Promise.all(
          [...this.children.keys()].map((port) => this.ask(port, async (node) => [String(await node.cluster("INFO")), await node.info("replication")])),
        );
        const ok = answers.every((answer) => answer && /cluster_state:ok/.test(answer[0]) && new RegExp(`cluster_known_nodes:${known}\\b`).test(answer[0]));
        const synced = answers.filter((answer) => answer && /role:slave/.test(answer[1]) && /master_link_status:up/.test(answer[1])).length;
        return ok && synced === replicas;
      },
      `the Redis Cluster is ok with ${known} nodes, ${replicas} of them replicas in sync`,
      timeout,
      100,
    );
  }

  /** The port of the primary that serves the hash slot of `key` now. */
  async primaryFor(key: string): Promise<number> {
    const slot = (await this.ask(this.ports[0], (node) => node.cluster("KEYSLOT", key))) as number;
    const slots = await this.ask(this.ports[0], (node) => node.cluster("SLOTS"));
    const primary = slots?.find(([from, to]) => slot >= from && slot <= to)?.[2];
    if (!primary) throw new Error(`no node serves slot ${slot}`);
    return primary[1];
  }

  /** Kills one node (SIGKILL) and waits for its exit. */
  async kill(port: number): Promise<void> {
    const child = this.children.get(port);
    this.children.delete(port);
    if (child) await stopChild(child, "SIGKILL");
  }

  /** The pids of the running nodes (for CPU readings). */
  pids(): number[] {
    return [...this.children.values()].map((child) => child.pid!);
  }

  /** Each running node's CLUSTER INFO (cluster bus statistics among it). */
  async clusterInfos(): Promise<string[]> {
    const infos = await Promise.all([...this.children.keys()].map((port) => this.ask(port, async (node) => String(await node.cluster("INFO")))));
    return infos.filter((info): info is string => info !== undefined);
  }

  /** Starts a killed node again; it rejoins the cluster with its old identity and slots. */
  async restart(port: number): Promise<void> {
    this.children.set(port, await startRedisProcess(this.args.get(port)!));
  }

  /** Runs `command` on a short-lived connection to one node; undefined when the node does not answer. */
  private async ask<T>(port: number, command: (node: Redis) => Promise<T>): Promise<T | undefined> {
    const options: RedisOptions = { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, password: this.password };
    if (this.certificate) options.tls = { ca: readFileSync(this.certificate.cert) };
    const node = new Redis(port, "127.0.0.1", options);
    node.on("error", () => {});
    try {
      await node.connect();
      return await command(node);
    } catch {
      return undefined;
    } finally {
      node.disconnect();
    }
  }

  stop(): Promise<void> {
    return stopRedisSet(this.children, this.dir);
  }
}
