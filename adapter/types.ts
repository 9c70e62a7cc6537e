import type { EventEmitter } from "node:events";
import type { Namespace } from "socket.io";
import type { Adapter } from "socket.io-adapter";

export type AdapterKind = "redis" | "cluster";

/** What a worker needs from the adapter it shares rooms and broadcasts through. */
/** up / down: the connection to the other nodes; publish-failed: a message did not reach them. */
export type GatewayAdapterEvents = { up: []; down: [reason: string]; "publish-failed": [channel: string, error: Error] };

export interface GatewayAdapter extends EventEmitter<GatewayAdapterEvents> {
  readonly kind: AdapterKind;
  /** The factory given to `io.adapter()`. */
  readonly factory: (nsp: Namespace) => Adapter;
  /** True while the adapter can publish and receive. */
  isConnected(): boolean;
  /** Resolves when connected (at once if it is). */
  whenConnected(): Promise<void>;
  /** Closes the adapter's connections. Idempotent. */
  close(): Promise<void>;
}
