import cluster, { type Worker } from "node:cluster";
import { EventEmitter } from "node:events";
import type { Logger } from "pino";
import { ipcMessage, type PrimaryToWorker } from "./ipc.js";
import type { ResolvedOptions } from "./options.js";
import { WORKER_EXIT_CONFIG } from "./worker.js";

/** A worker that lived shorter than this (ms) counts as crashing, and its slot backs off. */
const MIN_HEALTHY_UPTIME = 5000;
/** Back-off of a crashing slot: 100 ms doubled per consecutive crash, at most this (ms). */
const MAX_RESPAWN_DELAY = 10_000;

export type WorkerState = "starting" | "ready" | "stopping";

/** What the primary knows of the worker in one slot. */
export interface WorkerRecord {
  slot: number;
  worker: Worker;
  state: WorkerState;
  startedAt: number;
}

type PoolEvents = {
  /** A slot's worker became ready (first start or replacement). */
  ready: [slot: number];
  /** A slot's worker exited (it is replaced unless the pool is draining). */
  exit: [slot: number, code: number | null, signal: string | null];
  /** A worker exited with the configuration exit code before it was ever ready: nothing can start. */
  fatal: [slot: number];
};

/**
 * The worker processes, one per slot. Per-worker state lives in a Map keyed by slot, not on
 * cluster.Worker. A worker that exits is replaced in the same slot, with back-off when it
 * keeps crashing, so the IP hash keeps pointing at the same slot across restarts.
 */
export class WorkerPool extends EventEmitter<PoolEvents> {
  readonly records = new Map<number, WorkerRecord>();
  private readonly consecutiveCrashes = new Map<number, number>();
  private readonly respawnTimers = new Map<number, NodeJS.Timeout>();
  private readonly slotByWorkerId = new Map<number, number>();
  private draining = false;
  /** Workers replaced after an exit, since start. */
  restarts = 0;

  constructor(private readonly options: ResolvedOptions, private readonly logger: Logger) {
    super();
  }

  start(): void {
    for (let slot = 0; slot < this.options.workers; slot++) this.spawn(slot);
  }

  private spawn(slot: number): void {
    const worker = cluster.fork({ SIO_GATEWAY_OPTIONS: JSON.stringify(this.options), SIO_GATEWAY_SLOT: String(slot) });
    const record: WorkerRecord = { slot, worker, state: "starting", startedAt: Date.now() };
    this.records.set(slot, record);
    this.slotByWorkerId.set(worker.id, slot);
    worker.on("error", (error) => this.logger.debug({ slot, err: error.message }, "worker channel error"));
    worker.once("exit", (code, signal) => this.onExit(record, code, signal));
    this.logger.info({ slot, workerPid: worker.process.pid }, "worker started");
  }

  /** Marks a slot's worker ready (it said so over IPC). */
  markReady(worker: Worker): void {
    const record = this.recordOf(worker);
    if (!record || record.worker !== worker || record.state !== "starting") return;
    record.state = "ready";
    this.emit("ready", record.slot);
  }

  private onExit(record: WorkerRecord, code: number | null, signal: string | null): void {
    this.slotByWorkerId.delete(record.worker.id);
    if (this.records.get(record.slot) === record) this.records.delete(record.slot);
    this.emit("exit", record.slot, code, signal);
    if (this.draining) {
      this.logger.info({ slot: record.slot, code, signal }, "worker exited");
      return;
    }
    if (code === WORKER_EXIT_CONFIG && record.state === "starting") {
      this.emit("fatal", record.slot);
      return;
    }
    const uptime = Date.now() - record.startedAt;
    const crashes = uptime < MIN_HEALTHY_UPTIME ? (this.consecutiveCrashes.get(record.slot) ?? 0) + 1 : 0;
    this.consecutiveCrashes.set(record.slot, crashes);
    const delay = crashes === 0 ? 0 : Math.min(100 * 2 ** (crashes - 1), MAX_RESPAWN_DELAY);
    this.logger.warn({ slot: record.slot, code, signal, uptimeMs: uptime, respawnInMs: delay }, "worker exited, replacing it in the same slot");
    this.restarts++;
    this.respawnTimers.set(
      record.slot,
      setTimeout(() => {
        this.respawnTimers.delete(record.slot);
        if (!this.draining) this.spawn(record.slot);
      }, delay),
    );
  }

  /** The slot of a live worker, or undefined. */
  slotOf(worker: Worker): number | undefined {
    return this.slotByWorkerId.get(worker.id);
  }

  private recordOf(worker: Worker): WorkerRecord | undefined {
    const slot = this.slotOf(worker);
    return slot === undefined ? undefined : this.records.get(slot);
  }

  /** The ready worker in a slot, if there is one. */
  readyWorker(slot: number): Worker | undefined {
    const record = this.records.get(slot);
    return record?.state === "ready" && record.worker.isConnected() ? record.worker : undefined;
  }

  /** How many workers are ready now. */
  readyCount(): number {
    let count = 0;
    for (const record of this.records.values()) if (record.state === "ready") count++;
    return count;
  }

  /**
   * The slot's worker once it is ready, waiting at most `timeout` ms (a replacement is starting);
   * undefined if it is not ready by then.
   */
  whenReady(slot: number, timeout: number): Promise<Worker | undefined> {
    const now = this.readyWorker(slot);
    if (now || this.draining) return Promise.resolve(now);
    return new Promise((resolve) => {
      const onReady = (readySlot: number): void => {
        if (readySlot !== slot) return;
        cleanup();
        resolve(this.readyWorker(slot));
      };
      const timer = setTimeout(() => {
        cleanup();
        resolve(undefined);
      }, timeout);
      const cleanup = (): void => {
        clearTimeout(timer);
        this.off("ready", onReady);
      };
      this.on("ready", onReady);
    });
  }

  /** Any ready worker, trying slots in order after `slot` (the fallback when a slot stays down). */
  anyReadyWorker(slot: number): { slot: number; worker: Worker } | undefined {
    for (let i = 1; i <= this.options.workers; i++) {
      const candidate = (slot + i) % this.options.workers;
      const worker = this.readyWorker(candidate);
      if (worker) return { slot: candidate, worker };
    }
    return undefined;
  }

  /**
   * Asks every worker to drain and waits for all to exit; after `timeout` ms the rest are
   * killed. Resolves with the number of workers that had to be killed. Idempotent.
   */
  async drain(timeout: number): Promise<number> {
    this.draining = true;
    for (const timer of this.respawnTimers.values()) clearTimeout(timer);
    this.respawnTimers.clear();
    const live = [...this.records.values()];
    const exits = live.map((record) =>
      record.worker.isDead() ? Promise.resolve() : new Promise<void>((resolve) => record.worker.once("exit", () => resolve())),
    );
    for (const record of live) {
      record.state = "stopping";
      if (record.worker.isConnected()) record.worker.send(ipcMessage<PrimaryToWorker>({ type: "drain" }), undefined, () => {});
    }
    let killed = 0;
    const timer = setTimeout(() => {
      for (const record of live) {
        if (!record.worker.isDead()) {
          killed++;
          record.worker.process.kill("SIGKILL");
        }
      }
    }, timeout);
    await Promise.all(exits);
    clearTimeout(timer);
    return killed;
  }
}
