import {
  Adapter,
  ClusterAdapterWithHeartbeat,
  MessageType,
  type BroadcastOptions,
  type ClusterMessage,
  type ClusterResponse,
  type Session,
} from "socket.io-adapter";
import type { Namespace, Socket } from "socket.io";
import type { LogEntry, LogOffset, SessionRecord } from "./ordered-log.js";
import type { LogReader, RecoveryHub } from "./recovery-hub.js";
import type { DeliveredBroadcast } from "./ring.js";

/** The wire form of BroadcastOptions (sets as arrays), as socket.io-adapter's ClusterAdapter encodes them. */
interface EncodedOptions {
  rooms: string[];
  except: string[];
  flags: NonNullable<BroadcastOptions["flags"]>;
}

const encodeOptions = (opts: BroadcastOptions): EncodedOptions => ({ rooms: [...opts.rooms], except: [...(opts.except ?? [])], flags: opts.flags ?? {} });
const decodeOptions = (opts: EncodedOptions): BroadcastOptions => ({ rooms: new Set(opts.rooms), except: new Set(opts.except), flags: opts.flags });

/** What Socket.IO's in-memory recovery keeps too: events without an acknowledgement and not volatile. */
function isRecoverable(packet: { type?: unknown; id?: unknown }, opts: BroadcastOptions): boolean {
  return packet.type === 2 && packet.id === undefined && opts.flags?.volatile === undefined;
}

/** Whether a broadcast to `opts` reached a socket in `rooms` (its own id among them). */
function reaches(opts: BroadcastOptions, rooms: ReadonlySet<string>): boolean {
  for (const room of opts.except ?? []) if (rooms.has(room)) return false;
  if (opts.rooms.size === 0) return true;
  for (const room of opts.rooms) if (rooms.has(room)) return true;
  return false;
}

/** Private session ids are Socket.IO's base64id (20 random bytes): anything else is refused before any lookup. */
const PID_PATTERN = /^[A-Za-z0-9_-]{20,40}$/;
/** A restore replays at most this many entries; a client away for longer gets a fresh session. */
const MAX_MISSED_ENTRIES = 10_000;
/** A restored session not claimed by its socket within this time is forgotten (the handshake failed). */
const PENDING_RESTORE_TIMEOUT = 10_000;

interface PendingRestore {
  session: Session;
  clientOffset: LogOffset;
  /** The log's entries after the client's offset, as read (packets without their offset yet). */
  entries: LogEntry[];
  timer: NodeJS.Timeout;
}

/**
 * Socket.IO's adapter in recovery mode: socket.io-adapter's ClusterAdapterWithHeartbeat (every
 * cluster operation: rooms, fetchSockets, serverSideEmit, acks) over an ordered log, plus the
 * two things upstream lacks for a session to survive its worker:
 *
 * - Order: a broadcast is appended to the log and delivered, by every worker including its
 *   sender, only when read back, so every client sees broadcasts in one order and an offset
 *   means the same thing on every worker.
 * - Sessions are saved when they change (connect, join, leave) and refreshed while connected,
 *   not only when the socket disconnects, so a `kill -9` loses nothing; a restore takes the
 *   session (at most once), reads what the client missed from the log and closes the gap
 *   between that read and the socket's creation (see `finishRestore`).
 */
export class RecoveringAdapter extends ClusterAdapterWithHeartbeat implements LogReader {
  private readonly pendingRestores = new Map<string, PendingRestore>();
  /** Restored sockets that had seen more than this worker delivered: live entries up to this offset are not sent again. */
  private readonly skipUntil = new Map<string, LogOffset>();
  /** Sockets whose session must be saved at the next tick (rooms changed). */
  private readonly dirty = new Set<string>();
  /** Sockets whose session Socket.IO persisted at disconnect (recoverable): not removed when they leave. */
  private readonly persistedAtDisconnect = new Set<string>();
  /** The private id of each socket whose session is saved, to remove it when the socket leaves for good. */
  private readonly savedPids = new Map<string, string>();
  private flushScheduled = false;

  constructor(
    nsp: Namespace,
    private readonly hub: RecoveryHub,
  ) {
    super(nsp, {});
    hub.register(nsp.name, this);
  }

  /** socket.io-adapter types `nsp` as any. */
  private get namespace(): Namespace {
    return this.nsp as Namespace;
  }

  protected override doPublish(message: ClusterMessage): Promise<string> {
    return this.hub.log.append(message);
  }

  protected override doPublishResponse(requesterUid: string, response: ClusterResponse): Promise<void> {
    return this.hub.log.respond(requesterUid, response);
  }

  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- socket.io-adapter types packets as any
  override broadcast(packet: any, opts: BroadcastOptions): Promise<void> {
    if (opts.flags?.local || !isRecoverable(packet as { type?: unknown }, opts)) return super.broadcast(packet, opts);
    const appended = this.publishAndReturnOffset({ type: MessageType.BROADCAST, data: { packet, opts: encodeOptions(opts) } });
    this.hub.captureAppend(appended);
    return appended.then(
      () => undefined,
      (error: Error) => {
        this.emit("append-failed", error);
      },
    );
  }

  onLogEntry({ message, offset }: LogEntry): void {
    if (message.type === MessageType.BROADCAST && message.data.requestId === undefined) {
      const opts = decodeOptions(message.data.opts);
      const packet = message.data.packet as { type?: unknown; data: unknown[] };
      const recoverable = isRecoverable(packet, opts);
      // Our own volatile broadcasts were delivered here when sent (ClusterAdapter.broadcast).
      if (message.uid === this.uid && !recoverable) return;
      if (recoverable) {
        packet.data.push(offset);
        this.hub.remember({ offset, nsp: this.namespace.name, data: packet.data, opts });
        this.skipAlreadySeen(offset, opts);
      }
      Adapter.prototype.broadcast.call(this, packet, opts);
      return;
    }
    this.onMessage(message, offset);
  }

  onLogResponse(response: ClusterResponse): void {
    this.onResponse(response);
  }

  /** Restored sockets that already saw `offset` on their previous worker are left out of its delivery. */
  private skipAlreadySeen(offset: LogOffset, opts: BroadcastOptions): void {
    if (this.skipUntil.size === 0) return;
    const except = new Set(opts.except);
    for (const [sid, until] of this.skipUntil) {
      if (this.hub.log.compareOffsets(offset, until) <= 0) except.add(sid);
      else this.skipUntil.delete(sid);
    }
    opts.except = except;
  }

  override persistSession(session: { sid: string; pid: string; rooms: string[]; data: unknown }): void {
    this.persistedAtDisconnect.add(session.sid);
    const record: SessionRecord = { ...session, owner: this.uid };
    this.hub.log.sessions.saveIfOwner(record, this.hub.bounds.maxDisconnectionDuration).catch((error: Error) => this.emit("session-failed", error));
  }

  override async restoreSession(pid: string, offset: string): Promise<Session> {
    // Socket.IO's typing says Session, but it treats a falsy answer as "start a fresh session".
    const fresh = null as unknown as Session;
    if (!PID_PATTERN.test(pid) || !this.hub.log.isOffset(offset)) return fresh;
    // The offset first: a bad one must not consume the session (it is taken at most once).
    const entries = await this.hub.log.readAfter(offset, MAX_MISSED_ENTRIES);
    if (!entries || entries.length >= MAX_MISSED_ENTRIES) return fresh;
    const record = await this.hub.log.sessions.take(pid);
    if (!record || record.pid !== pid) return fresh;
    // Its old socket still open here (the client's network dropped and it came back to the same
    // worker before a ping timeout noticed): the client proved it is the same one, so the stale
    // socket goes first (it leaves its rooms now, synchronously); two sockets cannot share an id.
    this.namespace.sockets.get(record.sid)?.disconnect(true);
    const rooms = record.rooms.includes(record.sid) ? record.rooms : [record.sid, ...record.rooms];
    const session: Session = { sid: record.sid, pid: record.pid, rooms, data: record.data, missedPackets: [] };
    const timer = setTimeout(() => this.pendingRestores.delete(record.sid), PENDING_RESTORE_TIMEOUT).unref();
    this.pendingRestores.get(record.sid)?.timer.close();
    this.pendingRestores.set(record.sid, { session, clientOffset: offset, entries, timer });
    return session;
  }

  /**
   * Called synchronously from the restored Socket's constructor (its first `join`), before it
   * sends `missedPackets`: from now on the socket is in its rooms, so every entry this worker
   * delivers reaches it live. Missed, then, is exactly the log after the client's offset up to
   * that point: the entries read during the restore (up to `readUpTo`), plus those this worker
   * delivered since that read (from its window of recent deliveries). When this worker has not
   * delivered up to `readUpTo` yet (it lags, or just started and delivered nothing), the entries
   * up to `readUpTo` are replayed now and skipped when they arrive.
   */
  private finishRestore(sid: string, pending: PendingRestore): void {
    clearTimeout(pending.timer);
    const compare = (a: LogOffset, b: LogOffset): number => this.hub.log.compareOffsets(a, b);
    const delivered = this.hub.lastOffset;
    const rooms = new Set(pending.session.rooms);
    const missed: unknown[][] = [];
    let readUpTo = pending.clientOffset;
    for (const { offset, message } of pending.entries) {
      readUpTo = offset;
      if (message.type !== MessageType.BROADCAST || message.data.requestId !== undefined) continue;
      const opts = decodeOptions(message.data.opts);
      const packet = message.data.packet as { type?: unknown; data: unknown[] };
      if (isRecoverable(packet, opts) && reaches(opts, rooms)) missed.push([...packet.data, offset]);
    }
    if (delivered !== undefined && compare(delivered, readUpTo) > 0) {
      // Undefined only if this worker delivered over 10,000 broadcasts between the log read and this
      // moment (microseconds apart): those would be missing from the replay.
      const since: DeliveredBroadcast[] = this.hub.recent.between(readUpTo, delivered, compare) ?? [];
      for (const broadcast of since) if (broadcast.nsp === this.namespace.name && reaches(broadcast.opts, rooms)) missed.push(broadcast.data);
    } else {
      this.skipUntil.set(sid, readUpTo);
    }
    pending.session.missedPackets.push(...missed);
  }

  override addAll(id: string, rooms: Set<string>): Promise<void> | void {
    const pending = this.pendingRestores.get(id);
    if (pending) {
      this.pendingRestores.delete(id);
      this.finishRestore(id, pending);
    }
    this.markDirty(id);
    return super.addAll(id, rooms);
  }

  override del(id: string, room: string): Promise<void> | void {
    this.markDirty(id);
    return super.del(id, room);
  }

  override delAll(id: string): void {
    this.markDirty(id);
    super.delAll(id);
  }

  /** Session saves are batched per tick: a join of ten rooms is one save, made after the app's handlers ran. */
  private markDirty(id: string): void {
    this.dirty.add(id);
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(() => this.flushDirty());
  }

  private flushDirty(): void {
    this.flushScheduled = false;
    const sessions = this.hub.log.sessions;
    for (const id of this.dirty) {
      const socket = this.namespace.sockets.get(id);
      if (socket?.connected) {
        const record = this.recordOf(socket);
        if (!record) continue;
        this.savedPids.set(id, record.pid);
        sessions.save(record, this.hub.liveSessionTtl).catch((error: Error) => this.emit("session-failed", error));
        continue;
      }
      const pid = this.savedPids.get(id);
      this.savedPids.delete(id);
      // Gone for good (the client or the app disconnected it): its session must not be restorable.
      if (pid !== undefined && !this.persistedAtDisconnect.has(id)) sessions.remove(pid, this.uid).catch((error: Error) => this.emit("session-failed", error));
      this.persistedAtDisconnect.delete(id);
    }
    this.dirty.clear();
  }

  private recordOf(socket: Socket): SessionRecord | undefined {
    // `pid` is private in Socket.IO's typings; it exists whenever connectionStateRecovery is on.
    const pid = (socket as unknown as { pid?: string }).pid;
    if (pid === undefined) return undefined;
    return { sid: socket.id, pid, rooms: [...socket.rooms], data: socket.data as unknown, owner: this.uid };
  }

  liveSessions(): SessionRecord[] {
    const records: SessionRecord[] = [];
    for (const socket of this.namespace.sockets.values()) {
      const record = socket.connected ? this.recordOf(socket) : undefined;
      if (record) records.push(record);
    }
    return records;
  }

  override close(): void {
    this.hub.unregister(this.namespace.name, this);
    for (const pending of this.pendingRestores.values()) clearTimeout(pending.timer);
    super.close();
  }
}
