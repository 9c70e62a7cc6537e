import type { ClusterMessage, ClusterResponse } from "socket.io-adapter";

/**
 * The transport of connection-state recovery: one log that every worker reads in the same
 * order, plus a session store. Two implementations: Redis Streams (`redis-log.ts`, with
 * `--redis`) and the primary over IPC (`ipc-log.ts` + gateway/primary/recovery-relay.ts).
 *
 * Why a log and not pub/sub: recovery promises "every packet broadcast to you while away,
 * exactly once and in order". That needs one total order of broadcasts that every worker
 * delivers in, and offsets a client can carry to another worker. Pub/sub gives neither (two
 * publishers' messages can reach two workers in different orders, and a sender delivers its own
 * broadcast before anyone else sees it), so in recovery mode even the sender delivers its own
 * broadcast only when it comes back through the log.
 */

/** A log position: opaque to clients, totally ordered (compare with `compareOffsets` of the log). */
export type LogOffset = string;

/** One entry of the log, as every worker receives it. */
export interface LogEntry {
  offset: LogOffset;
  message: ClusterMessage;
}

/** What a worker keeps of a session so that another worker can restore it (Socket.IO's `Session`, less the packets). */
export interface SessionRecord {
  /** The socket id (public). */
  sid: string;
  /** The private session id the client proves itself with (never logged, never in metrics). */
  pid: string;
  rooms: string[];
  data: unknown;
  /** The adapter (worker process) that holds or last held the socket: only it may update the record. */
  owner: string;
}

export interface SessionStore {
  /** Saves a live session (it expires after `ttl` ms unless saved again). */
  save(record: SessionRecord, ttl: number): Promise<void>;
  /** Saves the session only if `record.owner` still owns it (no one restored it meanwhile); used at disconnect. */
  saveIfOwner(record: SessionRecord, ttl: number): Promise<void>;
  /** Takes the session (read and delete in one step, so it is restored at most once); undefined if unknown or expired. */
  take(pid: string): Promise<SessionRecord | undefined>;
  /** Deletes the session if `owner` owns it (a socket that left for good). */
  remove(pid: string, owner: string): Promise<void>;
}

export interface OrderedLog {
  /** Redis or IPC, for logs and errors. */
  readonly kind: "redis" | "ipc";
  readonly sessions: SessionStore;
  /**
   * Appends a message. Resolves with its offset once it is durable in the log (Redis answered /
   * the primary took it); rejects if it is not. Every reader, the appender included, then receives
   * it through `onEntry`, in log order.
   */
  append(message: ClusterMessage): Promise<LogOffset>;
  /** Sends a response to one adapter (`requesterUid`); not kept in order with the entries, not replayed. */
  respond(requesterUid: string, response: ClusterResponse): Promise<void>;
  /** Sets the receivers: every entry in log order, and the responses addressed to this worker's adapters. */
  subscribe(onEntry: (entry: LogEntry) => void, onResponse: (response: ClusterResponse) => void): void;
  /**
   * The entries after `offset` (exclusive), in order, at most `limit` of them; undefined when
   * `offset` is not (or no longer) in the log: trimmed by age or size, from an earlier log, or forged.
   */
  readAfter(offset: LogOffset, limit: number): Promise<LogEntry[] | undefined>;
  /** < 0, 0, > 0 as `a` is before, at, after `b`. Both must be offsets of this log. */
  compareOffsets(a: LogOffset, b: LogOffset): number;
  /** True when `offset` has this log's shape (cheap check of client input before any lookup). */
  isOffset(offset: string): boolean;
  /** True while appends can succeed. */
  isConnected(): boolean;
  /** Resolves when connected (at once if it is). */
  whenConnected(): Promise<void>;
  close(): Promise<void>;
}

/** How long the log keeps entries and sessions: Socket.IO's `connectionStateRecovery` as the app set it. */
export interface RecoveryBounds {
  /** `maxDisconnectionDuration`, ms: entries older than this are trimmed; a session lives this long after its socket left. */
  maxDisconnectionDuration: number;
  /** At most this many entries are kept (memory bound), whatever their age. */
  maxEntries: number;
}
