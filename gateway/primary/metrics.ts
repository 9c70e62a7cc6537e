import { createServer, type Server } from "node:http";
import { AggregatorRegistry, Counter, Gauge, Registry } from "prom-client";
import type { WorkerPool } from "./worker-pool.js";

/**
 * The primary's own metrics, and the cluster view: prom-client's AggregatorRegistry asks every
 * worker for its registry over IPC and sums series with equal labels; the primary's registry
 * is appended (its names differ, so the text stays valid exposition format).
 */
export class PrimaryMetrics {
  private readonly registry = new Registry();
  private readonly aggregator = new AggregatorRegistry();
  readonly handoffs: Counter<"route">;
  readonly rejected: Counter<"reason">;

  constructor(pool: WorkerPool) {
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
      help: "Workers replaced after an exit since the gateway started",
      registers: [this.registry],
      collect() {
        this.set(pool.restarts);
      },
    });
    this.handoffs = new Counter({
      name: "sio_gateway_primary_handoffs_total",
      help: "Connections handed from the primary to a worker, by routing reason (session or ip)",
      labelNames: ["route"],
      registers: [this.registry],
    });
    this.rejected = new Counter({
      name: "sio_gateway_primary_rejected_total",
      help: "Connections the primary closed without a hand-off, by reason",
      labelNames: ["reason"],
      registers: [this.registry],
    });
  }

  /** Prometheus text for the whole cluster. */
  async text(): Promise<string> {
    const [workers, primary] = await Promise.all([this.aggregator.clusterMetrics(), this.registry.metrics()]);
    return `${workers}\n${primary}`;
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
