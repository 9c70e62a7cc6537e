import type { Worker } from "node:cluster";
import { AggregatorRegistry } from "prom-client";

/** prom-client's own IPC message types (lib/cluster.js): workers with an AggregatorRegistry answer them. */
const GET_METRICS_REQ = "prom-client:getMetricsReq";
const GET_METRICS_RES = "prom-client:getMetricsRes";

/** How long the primary waits for each worker's registry, in ms: well under a scraper's timeout. */
export const WORKER_METRICS_TIMEOUT = 2000;

interface Pending {
  left: number;
  answers: object[];
  answered: Set<number>;
  finish: () => void;
}

/**
 * Collects every worker's prom-client registry over IPC and sums them, like prom-client's
 * `AggregatorRegistry.clusterMetrics()`, except that a worker that does not answer (hung,
 * SIGSTOP) is left out after WORKER_METRICS_TIMEOUT ms instead of failing the whole scrape
 * (prom-client rejects after 5 s and /metrics turned 503: no alert could fire). The caller
 * learns which workers answered, to mark the missing ones.
 */
export class ClusterMetrics {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();

  /** Feed every worker message here; returns true when it was a registry answer. */
  onMessage(worker: Worker, message: unknown): boolean {
    if (typeof message !== "object" || message === null) return false;
    const { type, requestId, metrics } = message as { type?: unknown; requestId?: unknown; metrics?: unknown };
    if (type !== GET_METRICS_RES || typeof requestId !== "string" || !requestId.startsWith("sio-gateway:")) return false;
    const request = this.pending.get(Number(requestId.slice("sio-gateway:".length)));
    if (!request || request.answered.has(worker.id)) return true;
    request.answered.add(worker.id);
    if (Array.isArray(metrics)) request.answers.push(...(metrics as object[]));
    if (--request.left === 0) request.finish();
    return true;
  }

  /** Asks `workers`; resolves with the summed text (with the primary's `local` registries' metrics) and the ids of the workers that answered. */
  collect(workers: Worker[], local: object[][] = []): Promise<{ text: string; answered: Set<number> }> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const request: Pending = {
        left: 0,
        answers: [],
        answered: new Set(),
        finish: () => {
          clearTimeout(timer);
          this.pending.delete(id);
          // The primary's own registries (`local`) join the workers' in one exposition: one HELP/TYPE per family.
          AggregatorRegistry.aggregate([...request.answers, ...local] as Parameters<typeof AggregatorRegistry.aggregate>[0])
            .metrics()
            .then((text) => resolve({ text, answered: request.answered }), reject);
        },
      };
      const timer = setTimeout(request.finish, WORKER_METRICS_TIMEOUT);
      this.pending.set(id, request);
      for (const worker of workers) {
        if (!worker.isConnected()) continue;
        request.left++;
        worker.send({ type: GET_METRICS_REQ, requestId: `sio-gateway:${id}` }, undefined, () => {});
      }
      if (request.left === 0) request.finish();
    });
  }
}
