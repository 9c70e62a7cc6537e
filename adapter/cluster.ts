import { EventEmitter } from "node:events";
import { createAdapter, setupPrimary } from "@socket.io/cluster-adapter";
import type { Namespace } from "socket.io";
import type { Adapter } from "socket.io-adapter";
import type { GatewayAdapter, GatewayAdapterEvents } from "./types.js";

/**
 * Single-machine mode: rooms and broadcasts shared between the workers through the primary
 * over IPC (`@socket.io/cluster-adapter`). Nothing to connect to, so it is always up.
 */
export class ClusterGatewayAdapter extends EventEmitter<GatewayAdapterEvents> implements GatewayAdapter {
  readonly kind = "cluster" as const;
  readonly factory = createAdapter() as unknown as (nsp: Namespace) => Adapter;

  isConnected(): boolean {
    return process.connected;
  }

  whenConnected(): Promise<void> {
    return Promise.resolve();
  }

  whenPublished(emit: () => unknown): Promise<void> {
    emit();
    return Promise.resolve();
  }

  topology(): undefined {
    return undefined;
  }

  async close(): Promise<void> {}
}

/** Relays the workers' adapter messages in the primary. Call once, in the primary, in cluster mode. */
export function setupClusterAdapterPrimary(): void {
  setupPrimary();
}
