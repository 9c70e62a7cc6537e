import express, { type Express, type Router } from "express";
import type { GatewayAdapter } from "../../adapter/index.js";
import type { Lifecycle } from "../lifecycle.js";
import type { Logger } from "pino";

export interface GatewayRoutesContext {
  slot: number;
  lifecycle: Lifecycle;
  adapter: GatewayAdapter;
  /** Cluster-wide metrics text (asked of the primary); undefined when /metrics is off or on its own port. */
  fetchMetrics: (() => Promise<string>) | undefined;
  logger: Logger;
}

/**
 * The express app of a worker. In order: `beforeGatewayRoutes`, a Router the app module fills
 * with middleware of its own (auth in front of /metrics or /emit), then the gateway's own
 * endpoints, so the app's routes cannot shadow them: /healthz (the process answers), /readyz
 * (it should get traffic), /metrics (Prometheus, whole cluster); /emit and /admin-ui follow;
 * then whatever the app mounts on `app`.
 */
export function createWorkerApp(ctx: GatewayRoutesContext): { app: Express; beforeGatewayRoutes: Router } {
  const app = express();
  app.disable("x-powered-by");
  const beforeGatewayRoutes = express.Router();
  app.use(beforeGatewayRoutes);

  app.get("/healthz", (_req, res) => {
    res.json({ status: "ok", worker: ctx.slot });
  });

  app.get("/readyz", (_req, res) => {
    const adapterConnected = ctx.adapter.isConnected();
    const ready = ctx.lifecycle.state === "ready" && adapterConnected;
    res.status(ready ? 200 : 503).json({
      status: ready ? "ready" : "unavailable",
      worker: ctx.slot,
      state: ctx.lifecycle.state,
      adapter: ctx.adapter.kind,
      adapterConnected,
      redis: ctx.adapter.topology(),
    });
  });

  app.get("/metrics", async (_req, res) => {
    if (!ctx.fetchMetrics) {
      res.status(404).type("text/plain").send("metrics are off here (see --metrics)\n");
      return;
    }
    try {
      const text = await ctx.fetchMetrics();
      res.type("text/plain; version=0.0.4; charset=utf-8").send(text);
    } catch (error) {
      ctx.logger.warn({ err: (error as Error).message }, "metrics aggregation failed");
      res
        .status(503)
        .type("text/plain")
        .send(`# metrics unavailable: ${(error as Error).message}\n`);
    }
  });

  return { app, beforeGatewayRoutes };
}
