import type { Logger } from "pino";
import type { ClusterResponse } from "socket.io-adapter";
import type { LogEntry, LogOffset, OrderedLog, RecoveryBounds, SessionRecord } from "./ordered-log.js";
import { RecentBroadcasts, type DeliveredBroadcast } from "./ring.js";

/** What the hub needs of each namespace's adapter (recovering-adapter.ts). */
export interface LogReader {
  onLogEntry(entry: LogEntry): void;
  onLogResponse(response: ClusterResponse): void;
  /** The session records of this namespace's connected sockets, for the periodic refresh. */
  liveSessions(): SessionRecord[];
}

/** How many delivered broadcasts each worker keeps for restores that race with delivery (ring.ts). */
const RECENT_CAPACITY = 10_000;

/**
 * One per worker: reads the log once and hands each entry, in log order, to its namespace's
 * adapter; remembers the last offset delivered and the recent broadcasts; refreshes the
 * sessions of connected sockets so they outlive a worker that dies (they expire
 * `maxDisconnectionDuration` after the last refresh).
 */
export class RecoveryHub {
  private readonly readers = new Map<string, LogReader>();
  readonly recent = new RecentBroadcasts(RECENT_CAPACITY);
  /** The offset of the last entry this worker received from the log; undefined before the first. */
  lastOffset: LogOffset | undefined;
  private readonly refreshTimer: NodeJS.Timeout;
  /** While `whenPublished` runs its emit: the appends it started. */
  private capture: Promise<unknown>[] | undefined;

  constructor(
    readonly log: OrderedLog,
    readonly bounds: RecoveryBounds,
    private readonly logger: Logger,
  ) {
    log.subscribe(
      (entry) => this.onEntry(entry),
      (response) => this.readers.get(response.nsp)?.onLogResponse(response),
    );
    this.refreshTimer = setInterval(() => void this.refreshSessions(), this.refreshInterval).unref();
  }

  /** How often connected sockets' sessions are saved again (their TTL is twice that plus the disconnection window). */
  get refreshInterval(): number {
    return Math.max(1000, Math.min(30_000, Math.floor(this.bounds.maxDisconnectionDuration / 2)));
  }

  /** TTL of a connected socket's session: it survives the worker's death by `maxDisconnectionDuration`, give or take a refresh. */
  get liveSessionTtl(): number {
    return this.bounds.maxDisconnectionDuration + this.refreshInterval;
  }

  register(nsp: string, reader: LogReader): void {
    this.readers.set(nsp, reader);
  }

  unregister(nsp: string, reader: LogReader): void {
    if (this.readers.get(nsp) === reader) this.readers.delete(nsp);
  }

  private onEntry(entry: LogEntry): void {
    this.lastOffset = entry.offset;
    try {
      this.readers.get(entry.message.nsp)?.onLogEntry(entry);
    } catch (error) {
      // One bad entry (an emitter's malformed message) must not stop the log for everyone.
      this.logger.warn({ err: (error as Error).message }, "recovery log: entry dropped");
    }
  }

  remember(broadcast: DeliveredBroadcast): void {
    this.recent.add(broadcast);
  }

  /** Registers an append started inside `whenPublished`'s emit. */
  captureAppend(append: Promise<unknown>): void {
    this.capture?.push(append);
  }

  /**
   * Runs `emit` (e.g. `() => io.to(room).emit("chat", message)`) and resolves once every
   * broadcast it started is durable in the log; rejects if one is not.
   */
  async whenPublished(emit: () => unknown): Promise<void> {
    const appends: Promise<unknown>[] = [];
    this.capture = appends;
    try {
      emit();
    } finally {
      this.capture = undefined;
    }
    await Promise.all(appends);
  }

  private async refreshSessions(): Promise<void> {
    const records = [...this.readers.values()].flatMap((reader) => reader.liveSessions());
    const results = await Promise.allSettled(records.map((record) => this.log.sessions.save(record, this.liveSessionTtl)));
    const failed = results.filter((result) => result.status === "rejected").length;
    if (failed > 0) this.logger.warn({ failed, of: records.length }, "recovery: could not refresh some sessions");
  }

  async close(): Promise<void> {
    clearInterval(this.refreshTimer);
    await this.log.close();
  }
}
