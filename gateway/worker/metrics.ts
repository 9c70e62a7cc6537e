import { AggregatorRegistry, collectDefaultMetrics, Counter, Gauge } from "prom-client";
import type { Server } from "socket.io";
import type { GatewayAdapter } from "../../adapter/index.js";
import { countBroadcasts, countDeliveries } from "./broadcast-count.js";

/**
 * A worker's metrics, in prom-client's global registry. The primary collects every worker's
 * registry over IPC (prom-client's AggregatorRegistry) and sums series with equal labels, so
 * cluster totals carry no `worker` label, and the per-worker views (sockets per worker, Node
 * process metrics, adapter state) carry one.
 */
export interface WorkerMetrics {
  /** Client events refused by the per-socket rate limit. */
  rateLimitedTotal: Counter;
  /** Counts one client event received (call from the event middleware). */
  eventsReceivedTotal: Counter;
}

/** What the metrics read of an Engine.IO connection. */
interface EngineConnection {
  transport: { name: string };
  on(event: "upgrade" | "close", listener: (...args: never[]) => void): void;
}

export function createWorkerMetrics(io: Server, adapter: GatewayAdapter, slot: number): WorkerMetrics {
  const worker = String(slot);
  // prom-client answers the primary's metrics requests only once an AggregatorRegistry exists in the worker.
  new AggregatorRegistry();
  // Node process metrics per worker (memory, CPU, event-loop lag): a sum would hide the worker at fault.
  collectDefaultMetrics({ labels: { worker } });

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
      this.set({ worker }, io.engine.clientsCount);
    },
  });
  new Gauge({
    name: "sio_gateway_adapter_connected",
    help: "1 when the worker's adapter (Redis or IPC) is connected, per worker",
    labelNames: ["worker", "adapter"],
    collect() {
      this.set({ worker, adapter: adapter.kind }, adapter.isConnected() ? 1 : 0);
    },
  });
  if (adapter.topology()) redisTopologyMetrics(adapter, worker);
  const publishFailures = new Counter({
    name: "sio_gateway_adapter_publish_failures_total",
    help: "Messages the adapter could not publish to the other nodes",
  });
  adapter.on("publish-failed", () => publishFailures.inc());

  const handshakes = new Counter({ name: "sio_gateway_handshakes_total", help: "Engine.IO connections opened, by first transport", labelNames: ["transport"] });
  const connections = new Counter({ name: "sio_gateway_connections_total", help: "Engine.IO connections opened" });
  const disconnections = new Counter({ name: "sio_gateway_disconnections_total", help: "Engine.IO connections closed, by reason", labelNames: ["reason"] });
  const upgrades = new Counter({ name: "sio_gateway_upgrades_total", help: "Connections upgraded from long-polling to WebSocket" });
  // Shared listeners, not a closure (and a `once` wrapper) per connection: an idle socket costs less
  // (bench/memory.ts). Engine.IO emits "close" and "upgrade" at most once per connection.
  const countUpgrade = (): void => upgrades.inc();
  const countClose = (reason: string): void => disconnections.inc({ reason });
  io.engine.on("connection", (conn: EngineConnection) => {
    const transport = conn.transport.name;
    connections.inc();
    handshakes.inc({ transport });
    // Only a transport with upgrades (polling) can upgrade: a WebSocket-first connection needs no listener.
    if (io.engine.upgrades(transport as Parameters<Server["engine"]["upgrades"]>[0]).length > 0) conn.on("upgrade", countUpgrade);
    conn.on("close", countClose);
  });

  const broadcasts = new Counter({ name: "sio_gateway_broadcasts_total", help: "Broadcasts (room or namespace emits) started on this cluster's workers" });
  const deliveries = new Counter({ name: "sio_gateway_deliveries_total", help: "Broadcast events delivered to clients, one per receiving socket" });
  countBroadcasts(io, () => broadcasts.inc());
  // Every namespace's adapter extends the same in-memory Adapter: counting through "/" covers them all.
  if (!countDeliveries(io.of("/").adapter, (recipients) => deliveries.inc(recipients))) {
    throw new Error("sio_gateway_deliveries_total: the adapter does not extend socket.io-adapter's Adapter");
  }

  return {
    rateLimitedTotal: new Counter({ name: "sio_gateway_rate_limited_events_total", help: "Client events refused by the per-socket rate limit" }),
    eventsReceivedTotal: new Counter({ name: "sio_gateway_events_received_total", help: "Events received from clients" }),
  };
}

/** What the worker's Redis is (mode, pub/sub) and, on a Cluster, its state and size as this worker sees them. */
function redisTopologyMetrics(adapter: GatewayAdapter, worker: string): void {
  new Gauge({
    name: "sio_gateway_redis_info",
    help: "1, labelled with the Redis setup (single, sentinel, cluster) and the pub/sub mode (plain, sharded), per worker",
    labelNames: ["worker", "mode", "pubsub"],
    collect() {
      const topology = adapter.topology();
      this.reset();
      if (topology) this.set({ worker, mode: topology.mode, pubsub: topology.pubsub }, 1);
    },
  });
  new Gauge({
    name: "sio_gateway_redis_cluster_ok",
    help: "Redis Cluster only: 1 when CLUSTER INFO says cluster_state:ok (every slot served), per worker",
    labelNames: ["worker"],
    collect() {
      const cluster = adapter.topology()?.cluster;
      if (cluster) this.set({ worker }, cluster.state === "ok" ? 1 : 0);
    },
  });
  new Gauge({
    name: "sio_gateway_redis_cluster_nodes",
    help: "Redis Cluster only: live primaries (with slots) and replicas, as CLUSTER NODES lists them",
    labelNames: ["worker", "role"],
    collect() {
      const cluster = adapter.topology()?.cluster;
      if (!cluster) return;
      this.set({ worker, role: "primary" }, cluster.primaries);
      this.set({ worker, role: "replica" }, cluster.replicas);
    },
  });
}
