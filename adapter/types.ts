import type { EventEmitter } from "node:events";
import type { Namespace } from "socket.io";
import type { Adapter } from "socket.io-adapter";

export type AdapterKind = "redis" | "cluster";

/** What a worker needs from the adapter it shares rooms and broadcasts through. */
export interface GatewayAdapter extends EventEmitter<{ up: []; down: [reason: string] }> {
  readonly kind: AdapterKind;
  /** The factory given to `io.adapter()`. */
  readonly factory: (nsp: Namespace) => Adapter;
  /** True while the adapter can publish and receive. */
  isConnected(): boolean;
  /** Resolves when connected (at once if it is). */
  whenConnected(): Promise<void>;
  /** Publishes that failed (counted, logged, never silent). */
  readonly publishFailures: number;
  /** Closes the adapter's connections. Idempotent. */
  close(): Promise<void>;
}
