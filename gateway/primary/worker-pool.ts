import cluster, { type Worker } from "node:cluster";
import { EventEmitter } from "node:events";
import type { Logger } from "pino";
import { ipcMessage, type PrimaryToWorker } from "../ipc.js";
import { SECRET_ENV_VARS, type ResolvedOptions } from "../options.js";
import { WORKER_EXIT_CONFIG } from "../exit-codes.js";
import { CrashBackoff } from "./crash-backoff.js";
import { rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, dirname } from "node:path";

/** A worker's socket path is `<tmpdir>/sio-gateway-XXXXXX/worker-<slot>.sock` (worker/request-router.ts): nothing else is accepted or removed. */
function isOwnSocketPath(path: string): boolean {
  return dirname(dirname(path)) === tmpdir() && basename(dirname(path)).startsWith("sio-gateway-") && /^worker-\d+\.sock$/.test(basename(path));
}

export type WorkerState = "starting" | "ready" | "stopping";

/** What the primary knows of the worker in one slot. */
export interface WorkerRecord {
  slot: number;
  worker: Worker;
  state: WorkerState;
  startedAt: number;
  /** When it said it was ready (Date.now()); undefined while starting. */
  readyAt?: number;
  /** Why it could not start, as it said before exiting. */
  failure?: StartFailure;
  /** What it waits for while starting, as it said (e.g. its Redis); undefined before it says. */
  waitingFor?: string;
  /** Its private Unix socket for requests forwarded by peers (per-request routing). */
  internalPath?: string;
  /** When it last showed its event loop runs (a pong, a hand-off ack, any message), Date.now(). */
  lastAnswerAt: number;
  /** False while it does not answer (hung, SIGSTOP): no new connections go to it. */
  responsive: boolean;
}

/** A worker's own account of why it could not start. */
export interface StartFailure {
  /** A bad app module or option (exit 2) rather than an app whose set-up threw (exit 1). */
  configuration: boolean;
  /** One line naming the cause. */
  message: string;
}

type PoolEvents = {
  /** A slot's worker became ready (first start, replacement after an exit, or rolling restart). */
  ready: [slot: number];
  /** A worker exited (it is replaced unless the pool is draining or it was retired). */
  exit: [record: WorkerRecord, code: number | null, signal: string | null];
  /** At start-up, a worker failed to start (a bad app module or option, the app's set-up threw): nothing can start. */
  fatal: [slot: number, failure: StartFailure];
  /** A ready worker stopped answering, or answers again. */
  responsiveness: [record: WorkerRecord];
};

/**
 * The environment of a worker: the primary's, less the variables that carry the gateway's
 * secrets (the emit token, the admin password, a Redis URL with its password). `undefined`
 * removes a variable (child_process skips undefined values).
 */
function workerEnvironment(): Record<string, string | undefined> {
  return Object.fromEntries(SECRET_ENV_VARS.map((name) => [name, undefined]));
}

/**
 * The worker processes, one per slot. Per-worker state lives in Maps keyed by slot and by
 * cluster worker id, not on cluster.Worker. A worker that exits is replaced in the same slot,
 * with back-off when it keeps crashing, so the IP hash keeps pointing at the same slot across
 * restarts. A rolling restart starts each slot's replacement before it retires the old worker.
 */
export class WorkerPool extends EventEmitter<PoolEvents> {
  /** The worker that serves each slot now. */
  readonly records = new Map<number, WorkerRecord>();
  /** Every live worker, including replacements still starting and retired ones still draining. */
  private readonly byWorkerId = new Map<number, WorkerRecord>();
  private readonly backoff = new CrashBackoff();
  /** Rolling-restart replacements that never became ready (killed after --start-timeout), since start. */
  failedReplacements = 0;
  /** Connections waiting for a slot's worker to be ready (whenReady). */
  private readonly waiters = new Map<number, Set<(worker: Worker | undefined) => void>>();
  private readonly respawnTimers = new Map<number, NodeJS.Timeout>();
  private draining = false;
  private rolling: Promise<void> | undefined;
  /** Set once every slot's first worker was ready. */
  private started = false;
  /** Workers replaced after an exit, since start. */
  restarts = 0;

  constructor(
    private readonly options: ResolvedOptions,
    private readonly logger: Logger,
  ) {
    super();
    this.on("ready", (slot) => this.wakeWaiters(slot));
  }

  start(): void {
    for (let slot = 0; slot < this.options.workers; slot++) this.records.set(slot, this.spawn(slot));
  }

  /** Called by the primary once every slot's first worker is ready: from then on no exit is fatal. */
  markStarted(): void {
    this.started = true;
  }

  /** Forks a worker for a slot; the caller decides whether it serves the slot now or once ready. */
  private spawn(slot: number): WorkerRecord {
    const worker = cluster.fork(workerEnvironment());
    const record: WorkerRecord = { slot, worker, state: "starting", startedAt: Date.now(), lastAnswerAt: Date.now(), responsive: true };
    this.byWorkerId.set(worker.id, record);
    worker.on("error", (error) => this.logger.debug({ slot, err: error.message }, "worker channel error"));
    worker.once("exit", (code, signal) => this.onExit(record, code, signal));
    this.logger.info({ slot, workerPid: worker.process.pid }, "worker started");
    return record;
  }

  /**
   * Answers a worker's configure request with the options and its slot. Options reach workers
   * over IPC, never through their environment, which every process an app spawns inherits and
   * `ps e` shows. The worker asks once its listener is attached (a message sent right after
   * fork could arrive while its modules still load, and be lost).
   */
  configure(worker: Worker): void {
    const record = this.byWorkerId.get(worker.id);
    if (!record || !worker.isConnected()) return;
    worker.send(ipcMessage<PrimaryToWorker>({ type: "configure", options: { ...this.options }, slot: record.slot }), undefined, () => {});
  }

  /** Records why a starting worker failed (it exits next; the exit decides what follows). */
  /** Records what a starting worker waits for (for the start-timeout message). */
  startWaiting(worker: Worker, reason: string): void {
    const record = this.byWorkerId.get(worker.id);
    if (record?.state === "starting") record.waitingFor = reason;
  }

  /** "1 of 2 workers ready; worker 1 waits for …": what a start that timed out was waiting for. */
  startTimeoutReport(expected: number): string {
    const waiting = [...this.records.values()]
      .filter((record) => record.state !== "ready")
      .map((record) => `worker ${record.slot} ${record.waitingFor ? `waits for ${record.waitingFor}` : "is still starting (the app's set-up, or forking)"}`);
    return `${this.readyCount()} of ${expected} workers ready${waiting.length > 0 ? `; ${waiting.join("; ")}` : ""}`;
  }

  startFailed(worker: Worker, failure: StartFailure): void {
    const record = this.byWorkerId.get(worker.id);
    if (record?.state === "starting") record.failure = failure;
  }

  /** Marks a worker ready (it said so over IPC); a replacement takes over its slot now and the old worker drains. */
  markReady(worker: Worker): void {
    const record = this.byWorkerId.get(worker.id);
    if (!record || record.state !== "starting") return;
    record.state = "ready";
    record.readyAt = Date.now();
    const previous = this.records.get(record.slot);
    if (previous !== record) {
      this.records.set(record.slot, record);
      if (previous) this.retire(previous);
    }
    this.emit("ready", record.slot);
  }

  /** Tells a worker to drain; its exit is expected and not replaced. */
  private retire(record: WorkerRecord): void {
    const wasStarting = record.state === "starting";
    record.state = "stopping";
    // A worker still starting (waiting for Redis, in the app's set-up) has no clients to drain and
    // does not listen for "drain" yet: SIGTERM ends it now instead of after --shutdown-timeout.
    if (wasStarting) record.worker.process.kill("SIGTERM");
    else if (record.worker.isConnected()) record.worker.send(ipcMessage<PrimaryToWorker>({ type: "drain" }), undefined, () => {});
  }

  /** Records the private socket a worker listens on for its peers (it says so before "ready"). */
  setInternalPath(worker: Worker, path: string): void {
    const record = this.byWorkerId.get(worker.id);
    if (record && isOwnSocketPath(path)) record.internalPath = path;
  }

  /** The worker's record, if it is one of ours and alive. */
  recordOf(worker: Worker): WorkerRecord | undefined {
    return this.byWorkerId.get(worker.id);
  }

  /** Every live worker (serving, starting or draining). */
  liveRecords(): WorkerRecord[] {
    return [...this.byWorkerId.values()];
  }

  /** Marks a worker as (not) answering; emits "responsiveness" on a change. */
  setResponsive(record: WorkerRecord, responsive: boolean): void {
    if (record.responsive === responsive) return;
    record.responsive = responsive;
    this.emit("responsiveness", record);
  }

  /** True when a slot's worker is up but not answering: its sessions cannot be served anywhere. */
  isUnresponsive(slot: number): boolean {
    const record = this.records.get(slot);
    return record?.state === "ready" && !record.responsive;
  }

  /** Each slot's peer socket path (null when the slot has no ready, answering worker): what workers forward to. */
  peerPaths(): (string | null)[] {
    return Array.from({ length: this.options.workers }, (_, slot) => {
      const record = this.records.get(slot);
      return record?.state === "ready" && record.responsive && record.internalPath ? record.internalPath : null;
    });
  }

  /** Slots whose worker is ready but not answering (hung, SIGSTOP): workers answer 503 for their sessions. */
  hungSlots(): number[] {
    const hung: number[] = [];
    for (const [slot, record] of this.records) if (record.state === "ready" && !record.responsive) hung.push(slot);
    return hung;
  }

  private onExit(record: WorkerRecord, code: number | null, signal: string | null): void {
    this.byWorkerId.delete(record.worker.id);
    // A worker removes its socket directory on exit; after SIGKILL nobody else would.
    if (record.internalPath) rmSync(dirname(record.internalPath), { recursive: true, force: true });
    const wasServing = this.records.get(record.slot) === record;
    if (wasServing) this.records.delete(record.slot);
    this.emit("exit", record, code, signal);
    if (this.draining || record.state === "stopping") {
      this.logger.info({ slot: record.slot, code, signal }, "worker exited");
      return;
    }
    if (!wasServing) {
      this.logger.warn({ slot: record.slot, code, signal }, "replacement worker exited before it was ready; the old worker keeps the slot");
      return;
    }
    // At start-up a configuration error stops everything; later (the app module broke under a
    // running gateway) the other workers keep serving and this slot backs off like any crash.
    // An app whose set-up throws fails the same way on every try: at start-up that stops everything too.
    if (record.state === "starting" && !this.started && (record.failure !== undefined || code === WORKER_EXIT_CONFIG)) {
      this.emit(
        "fatal",
        record.slot,
        record.failure ?? { configuration: true, message: `worker ${record.slot} exited with code ${code} (see its error above)` },
      );
      return;
    }
    const uptime = Date.now() - record.startedAt;
    const readyFor = record.readyAt === undefined ? undefined : Date.now() - record.readyAt;
    const { delay } = this.backoff.onExit(record.slot, readyFor);
    this.logger.warn(
      { slot: record.slot, code, signal, uptimeMs: uptime, readyForMs: readyFor, respawnInMs: delay },
      "worker exited, replacing it in the same slot",
    );
    this.restarts++;
    this.respawnTimers.set(
      record.slot,
      setTimeout(() => {
        this.respawnTimers.delete(record.slot);
        if (!this.draining && !this.records.has(record.slot)) this.records.set(record.slot, this.spawn(record.slot));
      }, delay),
    );
  }

  /**
   * Replaces every worker, one slot at a time: the new worker starts, takes the slot once
   * ready, then the old one drains (its clients reconnect, to the new one). At no moment are
   * all slots down. A second call while one runs returns the same promise.
   */
  rollingRestart(): Promise<void> {
    this.rolling ??= (async () => {
      this.logger.info("rolling restart");
      for (let slot = 0; slot < this.options.workers && !this.draining; slot++) await this.replaceSlot(slot);
      this.logger.info("rolling restart done");
    })().finally(() => (this.rolling = undefined));
    return this.rolling;
  }

  private replaceSlot(slot: number): Promise<void> {
    const old = this.records.get(slot);
    const replacement = this.spawn(slot);
    return new Promise((resolve) => {
      // A replacement that is not ready within --start-timeout (Redis down, an app stuck) is killed and
      // reported; the old worker keeps serving its slot and the restart goes on with the next slot.
      const deadline = setTimeout(() => {
        this.failedReplacements++;
        this.logger.error(
          { slot, waitingFor: replacement.waitingFor, startTimeout: this.options.startTimeout },
          "rolling restart: the replacement did not become ready in time; the old worker keeps the slot",
        );
        replacement.worker.process.kill("SIGKILL");
      }, this.options.startTimeout);
      const done = (): void => {
        clearTimeout(deadline);
        this.off("ready", onReady);
        this.off("exit", onExit);
        resolve();
      };
      const onReady = (readySlot: number): void => {
        if (readySlot !== slot || this.records.get(slot) !== replacement) return;
        // Wait for the old worker to be gone, so one slot at a time churns.
        if (old && !old.worker.isDead()) old.worker.once("exit", done);
        else done();
      };
      const onExit = (record: WorkerRecord): void => {
        if (record === replacement && replacement.state === "starting") done();
      };
      this.on("ready", onReady);
      this.on("exit", onExit);
    });
  }

  /** The ready worker in a slot, if there is one. */
  readyWorker(slot: number): Worker | undefined {
    const record = this.records.get(slot);
    return record?.state === "ready" && record.responsive && record.worker.isConnected() ? record.worker : undefined;
  }

  /** How many slots there are (the --workers option). */
  get slotCount(): number {
    return this.options.workers;
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
      // One waiting set per slot, woken by the pool's single "ready" listener: connections that
      // queue for a restarting worker add no event listener each (no MaxListenersExceededWarning).
      let waiting = this.waiters.get(slot);
      if (!waiting) this.waiters.set(slot, (waiting = new Set()));
      const waiter = (worker: Worker | undefined): void => {
        clearTimeout(timer);
        waiting.delete(waiter);
        resolve(worker);
      };
      const timer = setTimeout(() => waiter(undefined), timeout);
      waiting.add(waiter);
    });
  }

  /** Wakes the connections waiting for a slot's worker (the pool's one "ready" listener). */
  private wakeWaiters(slot: number): void {
    const waiting = this.waiters.get(slot);
    if (!waiting) return;
    this.waiters.delete(slot);
    const worker = this.readyWorker(slot);
    for (const waiter of waiting) waiter(worker);
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
    const live = [...this.byWorkerId.values()];
    const exits = live.map((record) =>
      record.worker.isDead() ? Promise.resolve() : new Promise<void>((resolve) => record.worker.once("exit", () => resolve())),
    );
    for (const record of live) this.retire(record);
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
