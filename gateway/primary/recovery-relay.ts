import cluster, { type Worker } from "node:cluster";
import { randomBytes } from "node:crypto";
import type { ClusterMessage } from "socket.io-adapter";
import { asWorkerToRelay, LOG_IPC_SOURCE, type RelayToWorker } from "../../adapter/recovery/ipc-messages.js";
import type { LogEntry, RecoveryBounds, SessionRecord } from "../../adapter/recovery/ordered-log.js";
import type { Logger } from "../logger.js";

/** A session record larger than this (its `socket.data` is app data) is refused rather than kept in the primary's memory. */
const MAX_RECORD_BYTES = 64 * 1024;

interface Kept {
  offset: number;
  at: number;
  message: ClusterMessage;
}

/**
 * Single-machine connection-state recovery, the primary's half (the workers' is
 * adapter/recovery/ipc-log.ts): numbers every appended message, relays it to every subscribed
 * worker (its sender included) in that order, keeps the last entries for replay (bounded by
 * count and by `maxDisconnectionDuration`), and keeps the sessions. It lives in the primary
 * because the primary outlives every worker: a killed worker's sessions and broadcasts stay.
 * A restart of the primary starts a new epoch: older offsets are unknown, so those clients
 * start fresh sessions.
 */
export class RecoveryRelay {
  private readonly epoch = randomBytes(6).toString("hex");
  private sequence = 0;
  private readonly entries: Kept[] = [];
  private readonly sessions = new Map<string, { record: SessionRecord; expiresAt: number }>();
  private readonly subscribers = new Set<Worker>();
  private bounds: RecoveryBounds | undefined;
  private readonly sweepTimer: NodeJS.Timeout;

  constructor(private readonly logger: Logger) {
    this.sweepTimer = setInterval(() => this.sweep(), 5000).unref();
    cluster.on("exit", (worker) => this.subscribers.delete(worker));
  }

  /** Handles a worker's message if it is the relay's; false otherwise. */
  handle(worker: Worker, raw: unknown): boolean {
    const message = asWorkerToRelay(raw);
    if (!message) return false;
    switch (message.type) {
      case "subscribe":
        this.subscribers.add(worker);
        // Every worker runs the same app, so the same bounds; keep the widest in case they differ during a rolling restart.
        this.bounds = this.bounds
          ? {
              maxDisconnectionDuration: Math.max(this.bounds.maxDisconnectionDuration, message.bounds.maxDisconnectionDuration),
              maxEntries: Math.max(this.bounds.maxEntries, message.bounds.maxEntries),
            }
          : message.bounds;
        break;
      case "append": {
        const entry = this.append(message.message);
        this.reply(worker, message.id, entry.offset);
        break;
      }
      case "respond":
        for (const subscriber of this.subscribers) send(subscriber, { source: LOG_IPC_SOURCE, type: "response", to: message.to, response: message.response });
        break;
      case "read-after":
        this.reply(worker, message.id, this.readAfter(message.offset, message.limit));
        break;
      case "session-save":
        this.saveSession(worker, message.id, message.record, message.ttl, message.ifOwner);
        break;
      case "session-take":
        this.reply(worker, message.id, this.takeSession(message.pid));
        break;
      case "session-remove": {
        const kept = this.sessions.get(message.pid);
        if (kept?.record.owner === message.owner) this.sessions.delete(message.pid);
        this.reply(worker, message.id, undefined);
        break;
      }
    }
    return true;
  }

  private append(message: ClusterMessage): LogEntry {
    const offset = ++this.sequence;
    this.entries.push({ offset, at: Date.now(), message });
    this.trim();
    const entry: LogEntry = { offset: `${this.epoch}:${offset}`, message };
    for (const subscriber of this.subscribers) send(subscriber, { source: LOG_IPC_SOURCE, type: "entry", entry });
    return entry;
  }

  private trim(): void {
    if (!this.bounds) return;
    const oldest = Date.now() - this.bounds.maxDisconnectionDuration;
    let drop = Math.max(0, this.entries.length - this.bounds.maxEntries);
    while (drop < this.entries.length && this.entries[drop].at < oldest) drop++;
    if (drop > 0) this.entries.splice(0, drop);
  }

  /** Entries after `offset` (exclusive); undefined when it is from another epoch, in the future, or trimmed away. */
  private readAfter(offset: string, limit: number): LogEntry[] | undefined {
    const [epoch, sequence] = offset.split(":");
    const after = Number(sequence);
    if (epoch !== this.epoch || !Number.isSafeInteger(after) || after > this.sequence) return undefined;
    const first = this.entries[0]?.offset ?? this.sequence + 1;
    // Everything after `after` must still be here: the entry right after it is the first kept, or later.
    if (after + 1 < first) return undefined;
    const start = after + 1 - first;
    return this.entries.slice(start, start + limit).map((kept) => ({ offset: `${this.epoch}:${kept.offset}`, message: kept.message }));
  }

  private saveSession(worker: Worker, id: number, record: SessionRecord, ttl: number, ifOwner: boolean): void {
    const size = Buffer.byteLength(JSON.stringify(record.data) ?? "");
    if (size > MAX_RECORD_BYTES) {
      this.replyError(worker, id, `session data of ${size} bytes is over the ${MAX_RECORD_BYTES}-byte limit`);
      return;
    }
    const kept = this.sessions.get(record.pid);
    if (ifOwner && kept?.record.owner !== record.owner) {
      this.reply(worker, id, false);
      return;
    }
    this.sessions.set(record.pid, { record, expiresAt: Date.now() + ttl });
    this.reply(worker, id, true);
  }

  private takeSession(pid: string): SessionRecord | undefined {
    const kept = this.sessions.get(pid);
    this.sessions.delete(pid);
    return kept && kept.expiresAt > Date.now() ? kept.record : undefined;
  }

  private sweep(): void {
    const now = Date.now();
    for (const [pid, kept] of this.sessions) if (kept.expiresAt <= now) this.sessions.delete(pid);
    this.trim();
  }

  private reply(worker: Worker, id: number, value: unknown): void {
    send(worker, { source: LOG_IPC_SOURCE, type: "reply", id, ok: true, value });
  }

  private replyError(worker: Worker, id: number, error: string): void {
    this.logger.debug({ err: error }, "recovery relay: request refused");
    send(worker, { source: LOG_IPC_SOURCE, type: "reply", id, ok: false, error });
  }

  close(): void {
    clearInterval(this.sweepTimer);
  }
}

function send(worker: Worker, message: RelayToWorker): void {
  if (worker.isConnected()) worker.send(message, undefined, () => {});
}
