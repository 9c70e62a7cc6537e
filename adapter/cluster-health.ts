import type { Cluster } from "ioredis";
import { withTimeout } from "./with-timeout.js";

/** How often a Cluster's state is asked, in ms: fast enough for /readyz, cheap for Redis (CLUSTER INFO and CLUSTER NODES). */
export const CLUSTER_HEALTH_INTERVAL_MS = 2000;

export interface ClusterReading {
  /** `ok` when every hash slot is served (CLUSTER INFO cluster_state), `fail` otherwise, `unknown` before the first answer or when no node answers. */
  state: "ok" | "fail" | "unknown";
  /** Primaries serving slots and replicas, not flagged failed, as CLUSTER NODES lists them (0 before the first answer). */
  primaries: number;
  replicas: number;
}

/** The `cluster_state` field of a CLUSTER INFO reply. */
export function clusterStateOf(info: string): "ok" | "fail" | "unknown" {
  const state = /^cluster_state:(\w+)/m.exec(info)?.[1];
  return state === "ok" || state === "fail" ? state : "unknown";
}

/** Live primaries (with slots) and replicas in a CLUSTER NODES reply; nodes flagged `fail` or `fail?` count as gone. */
export function countClusterNodes(nodes: string): { primaries: number; replicas: number } {
  let primaries = 0;
  let replicas = 0;
  for (const line of nodes.split("\n")) {
    const [, , flags = "", , , , , , ...slots] = line.trim().split(" ");
    const flagSet = new Set(flags.split(","));
    if (flagSet.has("fail") || flagSet.has("fail?")) continue;
    if (flagSet.has("master") && slots.length > 0) primaries++;
    else if (flagSet.has("slave")) replicas++;
  }
  return { primaries, replicas };
}

/**
 * Watches a Redis Cluster's health for /readyz and the metrics. ioredis keeps its connection
 * "ready" while a shard is down (it only sees errors on the commands to that shard), so the
 * gateway asks the cluster itself: a primary lost without a replica to promote leaves
 * slots unserved, `cluster_state:fail`, and broadcasts through that shard cannot work.
 */
export class ClusterHealth {
  private reading: ClusterReading = { state: "unknown", primaries: 0, replicas: 0 };
  private timer: NodeJS.Timeout | undefined;
  /** A check waiting on dead primaries can outlast the interval: the next one is skipped, not stacked. */
  private checking = false;

  constructor(
    private readonly client: Cluster,
    private readonly onChange: () => void,
  ) {}

  current(): ClusterReading {
    return this.reading;
  }

  start(): void {
    if (this.timer) return;
    void this.check();
    this.timer = setInterval(() => void this.check(), CLUSTER_HEALTH_INTERVAL_MS);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Asks the primaries in turn until one answers: a dead one must not make a healthy cluster look failed. */
  private async check(): Promise<void> {
    if (this.checking) return;
    this.checking = true;
    try {
      await this.read();
    } finally {
      this.checking = false;
    }
  }

  private async read(): Promise<void> {
    let next: ClusterReading = { state: "unknown", primaries: 0, replicas: 0 };
    for (const node of this.client.nodes("master")) {
      if (node.status === "end") continue;
      try {
        // A node connection queues commands while it reconnects: a dead primary must not stall the check.
        const answers = Promise.all([node.cluster("INFO"), node.cluster("NODES")]);
        const [info, nodes] = await withTimeout(answers, CLUSTER_HEALTH_INTERVAL_MS / 2, () => new Error("no answer"));
        next = { state: clusterStateOf(String(info)), ...countClusterNodes(String(nodes)) };
        break;
      } catch {
        // try the next primary
      }
    }
    const changed = next.state !== this.reading.state || next.primaries !== this.reading.primaries || next.replicas !== this.reading.replicas;
    this.reading = next;
    if (changed) this.onChange();
  }
}
