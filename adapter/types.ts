import type { EventEmitter } from "node:events";
import type { Namespace } from "socket.io";
import type { Adapter } from "socket.io-adapter";
import type { ClusterReading } from "./cluster-health.js";
import type { PubSubMode } from "./pubsub-mode.js";

export type AdapterKind = "redis" | "cluster";

/** What a worker needs from the adapter it shares rooms and broadcasts through. */
/** up / down: the connection to the other nodes; publish-failed: a message did not reach them. */
export type GatewayAdapterEvents = { up: []; down: [reason: string]; "publish-failed": [channel: string, error: Error] };

/** What the gateway's Redis is and how it is doing, for /readyz and the metrics. */
export interface RedisTopology {
  mode: "single" | "sentinel" | "cluster";
  /** `pending` until the first connection decided it (adapter/pubsub-mode.ts); `log` with connection-state recovery (a Redis Stream, adapter/recovery/). */
  pubsub: PubSubMode | "pending" | "log";
  /** Cluster only: its state and size as the gateway last saw them. */
  cluster?: ClusterReading;
}

export interface GatewayAdapter extends EventEmitter<GatewayAdapterEvents> {
  readonly kind: AdapterKind;
  /** The factory given to `io.adapter()`. */
  readonly factory: (nsp: Namespace) => Adapter;
  /** True while the adapter can publish and receive. */
  isConnected(): boolean;
  /** Resolves when connected (at once if it is). */
  whenConnected(): Promise<void>;
  /** The Redis behind the adapter; undefined in single-machine mode (IPC). */
  topology(): RedisTopology | undefined;
  /**
   * Runs `emit` (e.g. `() => io.to(room).emit("chat", message)`) and resolves once the broadcasts it
   * started are durable: in the recovery log with connection-state recovery; at once otherwise
   * (pub/sub keeps nothing to be durable in). Rejects when a broadcast could not be published.
   */
  whenPublished(emit: () => unknown): Promise<void>;
  /** Closes the adapter's connections. Idempotent. */
  close(): Promise<void>;
}
