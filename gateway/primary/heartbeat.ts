import { ipcMessage, type PrimaryToWorker } from "../ipc.js";
import type { Logger } from "../logger.js";
import type { WorkerPool, WorkerRecord } from "./worker-pool.js";

/** How often the primary pings each worker, in ms. */
export const PING_INTERVAL = 1000;
/**
 * Silence after which a worker counts as not answering (no new connections, its sessions get
 * 503), in ms: long enough for a busy worker on a starved machine (load 20 on 2 cores here still
 * answered within it), short enough that a request routed to a hung worker is answered in 10 s.
 */
export const UNRESPONSIVE_AFTER = 4000;
/**
 * Silence after which a worker is killed (and replaced in its slot, like any crash), in ms.
 * Checked each PING_INTERVAL, so the kill comes within 10 s of the hang: requests on connections
 * the worker already held (nobody else can answer them) see their connection close by then.
 */
export const KILL_AFTER = 9000;

/**
 * Notices workers that stop answering (hung in a loop, SIGSTOP): a worker whose event loop
 * runs answers each ping (worker/heartbeat.ts), and any message from it counts as an answer.
 * After UNRESPONSIVE_AFTER ms of silence the pool marks it (routes avoid it, peers stop
 * forwarding to it); after KILL_AFTER ms it is killed, so its slot gets a fresh worker and its
 * connections are closed instead of hanging. Only ready workers are watched: starting ones
 * have the start timeout, draining ones the shutdown timeout.
 */
export class Heartbeat {
  private timer: NodeJS.Timeout | undefined;
  private nextId = 1;

  constructor(
    private readonly pool: WorkerPool,
    private readonly logger: Logger,
  ) {}

  start(): void {
    this.timer = setInterval(() => this.tick(), PING_INTERVAL);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** True when a live worker has said nothing for UNRESPONSIVE_AFTER ms (an unknown worker is gone: silent too). */
  isSilent(workerId: number): boolean {
    const record = this.pool.liveRecords().find((candidate) => candidate.worker.id === workerId);
    return record === undefined || Date.now() - record.lastAnswerAt >= UNRESPONSIVE_AFTER;
  }

  /** The worker showed it runs (a pong, or any other message). */
  answered(record: WorkerRecord): void {
    record.lastAnswerAt = Date.now();
    if (!record.responsive) {
      this.logger.warn({ slot: record.slot, workerPid: record.worker.process.pid }, "worker answers again");
      this.pool.setResponsive(record, true);
    }
  }

  private tick(): void {
    const now = Date.now();
    const ping = ipcMessage<PrimaryToWorker>({ type: "ping", id: this.nextId++ });
    for (const record of this.pool.liveRecords()) {
      if (record.state !== "ready") continue;
      const silent = now - record.lastAnswerAt;
      if (silent >= KILL_AFTER) {
        this.logger.error({ slot: record.slot, workerPid: record.worker.process.pid, silentMs: silent }, "worker not answering: killing it");
        record.worker.process.kill("SIGKILL");
        continue;
      }
      if (silent >= UNRESPONSIVE_AFTER && record.responsive) {
        this.logger.error({ slot: record.slot, workerPid: record.worker.process.pid, silentMs: silent }, "worker not answering: routing around it");
        this.pool.setResponsive(record, false);
      }
      if (record.worker.isConnected()) record.worker.send(ping, undefined, () => {});
    }
  }
}
