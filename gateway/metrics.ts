import { AggregatorRegistry, collectDefaultMetrics, Counter, Gauge, register } from "prom-client";
import type { Server } from "socket.io";
import type { GatewayAdapter } from "../adapter/index.js";

/**
 * A worker's metrics, in prom-client's global registry: the primary collects every worker's
 * registry over IPC (prom-client's AggregatorRegistry) and sums series with the same labels.
 * Totals therefore carry no `worker` label; the per-worker view has its own series.
 */
export interface WorkerMetrics {
  connectionsTotal: Counter;
  broadcastsTotal: Counter;
  rateLimitedTotal: Counter;
}

export function createWorkerMetrics(io: Server, adapter: GatewayAdapter, slot: number): WorkerMetrics {
  // prom-client answers the primary's metrics requests only once an AggregatorRegistry exists in the worker.
  new AggregatorRegistry();
  // Node process metrics per worker: a sum of heap sizes or event-loop lags would hide the worker at fault.
  collectDefaultMetrics({ labels: { worker: String(slot) } });
  new Gauge({
    name: "sio_gateway_connected_sockets",
    help: "Engine.IO connections open now, all workers",
    collect() {
      this.set(io.engine.clientsCount);
    },
  });
  new Gauge({
    name: "sio_gateway_worker_connected_sockets",
    help: "Engine.IO connections open now, per worker",
    labelNames: ["worker"],
    collect() {
      this.set({ worker: String(slot) }, io.engine.clientsCount);
    },
  });
  new Gauge({
    name: "sio_gateway_adapter_connected",
    help: "1 when the worker's adapter (Redis or IPC) is connected, per worker",
    labelNames: ["worker", "adapter"],
    collect() {
      this.set({ worker: String(slot), adapter: adapter.kind }, adapter.isConnected() ? 1 : 0);
    },
  });
  new Gauge({
    name: "sio_gateway_adapter_publish_failures",
    help: "Messages the adapter could not publish to other nodes since the worker started",
    collect() {
      this.set(adapter.publishFailures);
    },
  });
  const connectionsTotal = new Counter({ name: "sio_gateway_connections_total", help: "Engine.IO connections accepted" });
  io.engine.on("connection", () => connectionsTotal.inc());
  return {
    connectionsTotal,
    broadcastsTotal: new Counter({ name: "sio_gateway_broadcasts_total", help: "Broadcasts (room or namespace emits) started by this cluster's workers" }),
    rateLimitedTotal: new Counter({ name: "sio_gateway_rate_limited_events_total", help: "Client events refused by the per-socket rate limit" }),
  };
}

/** Counts every broadcast a namespace's adapter starts in this process (not the ones it relays from others). */
export function countBroadcasts(io: Server, counter: Counter): void {
  const wrap = (adapter: { broadcast: (...args: never[]) => void }): void => {
    const broadcast = adapter.broadcast.bind(adapter);
    adapter.broadcast = (...args: never[]) => {
      counter.inc();
      broadcast(...args);
    };
  };
  wrap(io.of("/").adapter as unknown as { broadcast: (...args: never[]) => void });
  io.on("new_namespace", (namespace) => wrap(namespace.adapter as unknown as { broadcast: (...args: never[]) => void }));
}

export { register as workerRegistry };
