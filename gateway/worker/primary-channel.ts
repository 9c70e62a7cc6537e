import { ipcMessage, type MetricsResponseMessage, type WorkerToPrimary } from "../ipc.js";

/** How long a worker waits for the primary's aggregated metrics, in ms. */
const METRICS_TIMEOUT = 5000;

/**
 * A worker's side of the IPC channel to its primary: fire-and-forget messages, and requests
 * that wait for a response with a bounded timeout.
 */
export class PrimaryChannel {
  private nextId = 1;
  private readonly pending = new Map<number, (response: MetricsResponseMessage) => void>();

  /** Sends a message; silently nothing when the primary is gone (the worker is exiting then). */
  send(message: WorkerToPrimary): void {
    if (process.connected) process.send?.(message, undefined, {}, () => {});
  }

  /** Sends a message and resolves once it is written to the channel (or the primary is gone): before an exit. */
  sendAndFlush(message: WorkerToPrimary): Promise<void> {
    return new Promise((resolve) => {
      if (!process.connected || !process.send) return resolve();
      process.send(message, undefined, {}, () => resolve());
    });
  }

  /** Cluster-wide Prometheus text, aggregated by the primary. */
  requestMetrics(): Promise<string> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`metrics: no answer from the primary within ${METRICS_TIMEOUT} ms`));
      }, METRICS_TIMEOUT);
      this.pending.set(id, (response) => {
        clearTimeout(timer);
        if (response.text !== undefined) resolve(response.text);
        else reject(new Error(response.error ?? "metrics failed"));
      });
      this.send(ipcMessage<WorkerToPrimary>({ type: "metrics-request", id }));
    });
  }

  /** Called by the worker's message handler for a metrics response. */
  resolveMetrics(response: MetricsResponseMessage): void {
    this.pending.get(response.id)?.(response);
    this.pending.delete(response.id);
  }
}
