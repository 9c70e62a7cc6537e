import { createServer, type Server } from "node:http";
import type { Worker } from "node:cluster";
import { collectDefaultMetrics, Counter, Gauge, Registry } from "prom-client";
import { packageVersion } from "../../common/package-version.js";
import { ClusterMetrics } from "./cluster-metrics.js";
import type { WorkerPool } from "./worker-pool.js";

const PACKAGE_VERSION = packageVersion();

/**
 * The primary's own metrics, and the cluster view: every answering worker's registry, asked
 * over IPC and summed (cluster-metrics.ts); the primary's registry is appended (its names
 * differ, so the text stays valid exposition format). A worker that does not answer is left
 * out and shows as `sio_gateway_worker_up{worker} 0`.
 */
export class PrimaryMetrics {
  private readonly registry = new Registry();
  /** Node's process metrics of the primary (`role="primary"`), summed into the same families as the workers' (`worker="N"`). */
  private readonly processRegistry = new Registry();
  readonly cluster = new ClusterMetrics();
  /** Hand-offs by route, counted in plain numbers (prom-client validates labels on every inc: a cost per connection) and read at each scrape. */
  readonly handoffs: Record<"session" | "cookie" | "ip", number> = { session: 0, cookie: 0, ip: 0 };
  readonly rejected: Counter<"reason">;
  private readonly workerUp: Gauge<"worker">;
  readonly pendingHeads: Gauge;
  readonly untrustedForwarded: Counter;

  constructor(
    private readonly pool: WorkerPool,
    /** How many handed-over sockets the primary still holds a copy of (primary/handoffs.ts). */
    pendingHandoffs: () => number = () => 0,
  ) {
    new Gauge({
      name: "sio_gateway_workers",
      help: "Worker processes that are ready",
      registers: [this.registry],
      collect() {
        this.set(pool.readyCount());
      },
    });
    new Gauge({
      name: "sio_gateway_worker_restarts",
      help: "Deprecated (a gauge; kept for one release): use sio_gateway_worker_restarts_total",
      registers: [this.registry],
      collect() {
        this.set(pool.restarts);
      },
    });
    new Counter({
      name: "sio_gateway_worker_restarts_total",
      help: "Workers replaced after an exit since the gateway started",
      registers: [this.registry],
      collect() {
        // The pool counts; a counter cannot be set, so it is brought to that count at each scrape.
        this.reset();
        this.inc(pool.restarts);
      },
    });
    new Counter({
      name: "sio_gateway_rolling_restart_failures_total",
      help: "Rolling-restart replacements that did not become ready within --start-timeout (killed; the old worker kept its slot)",
      registers: [this.registry],
      collect() {
        this.reset();
        this.inc(pool.failedReplacements);
      },
    });
    new Gauge({
      name: "sio_gateway_build_info",
      help: "1, labelled with the sio-gateway version and the Node version",
      labelNames: ["version", "node"],
      registers: [this.registry],
    }).set({ version: PACKAGE_VERSION, node: process.version }, 1);
    // The primary accepts every connection: its CPU, event-loop lag, fds and memory matter as much as a worker's.
    collectDefaultMetrics({ register: this.processRegistry, labels: { role: "primary" } });
    const handoffs = this.handoffs;
    new Counter({
      name: "sio_gateway_primary_handoffs_total",
      help: "Connections handed from the primary to a worker, by routing reason (session or ip)",
      labelNames: ["route"],
      registers: [this.registry],
      collect() {
        this.reset();
        for (const [route, count] of Object.entries(handoffs)) if (count > 0) this.inc({ route }, count);
      },
    });
    this.pendingHeads = new Gauge({
      name: "sio_gateway_primary_pending_heads",
      help: "Connections the primary holds while they send their request head (capped by --max-pending-heads)",
      registers: [this.registry],
    });
    new Gauge({
      name: "sio_gateway_primary_pending_handoffs",
      help: "Connections handed to a worker that the worker has not received yet (the primary keeps its copy until then)",
      registers: [this.registry],
      collect() {
        this.set(pendingHandoffs());
      },
    });
    this.untrustedForwarded = new Counter({
      name: "sio_gateway_primary_untrusted_forwarded_total",
      help: "Requests with X-Forwarded-For, X-Real-IP or Forwarded from an address not in --trust-proxy (ignored for routing)",
      registers: [this.registry],
    });
    this.workerUp = new Gauge({
      name: "sio_gateway_worker_up",
      help: "1 when the worker in this slot answered the last scrape, 0 when it is down, starting or not answering (its series are missing then)",
      labelNames: ["worker"],
      registers: [this.registry],
    });
    this.rejected = new Counter({
      name: "sio_gateway_primary_rejected_total",
      help: "Connections the primary closed without a hand-off, by reason",
      labelNames: ["reason"],
      registers: [this.registry],
    });
  }

  /** Prometheus text for the whole cluster: what the answering workers said, and which did not answer. */
  async text(): Promise<string> {
    const asked = new Map<number, Worker>();
    for (const [slot, record] of this.pool.records) if (record.state === "ready" && record.responsive) asked.set(slot, record.worker);
    const { text, answered } = await this.cluster.collect([...asked.values()], [await this.processRegistry.getMetricsAsJSON()]);
    this.workerUp.reset();
    for (let slot = 0; slot < this.pool.slotCount; slot++) {
      const worker = asked.get(slot);
      this.workerUp.set({ worker: String(slot) }, worker !== undefined && answered.has(worker.id) ? 1 : 0);
    }
    return `${text}\n${await this.registry.metrics()}`;
  }

  /** `--metrics PORT`: the primary serves GET /metrics on a port of its own (and nothing else there). */
  listen(host: string, port: number): Promise<Server> {
    const server = createServer((req, res) => {
      if (req.method !== "GET" || req.url?.split("?")[0] !== "/metrics") {
        res.writeHead(404, { "Content-Type": "text/plain" }).end("only GET /metrics here\n");
        return;
      }
      this.text().then(
        (text) => res.writeHead(200, { "Content-Type": this.registry.contentType }).end(text),
        (error: Error) => res.writeHead(503, { "Content-Type": "text/plain" }).end(`# metrics unavailable: ${error.message}\n`),
      );
    });
    return new Promise((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, host, () => resolve(server));
    });
  }
}
