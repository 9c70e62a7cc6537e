import { randomBytes, randomUUID } from "node:crypto";
import { EventEmitter } from "node:events";
import { hostname } from "node:os";
import { setTimeout as delay } from "node:timers/promises";
import type { Logger } from "pino";
import type { ClusterMessage, ClusterResponse } from "socket.io-adapter";
import { GatewayError } from "../../common/errors.js";
import type { Redis } from "ioredis";
import { createRedisClient, describeRedisError, type RedisConnection } from "../redis-client.js";
import { REDIS_KEY_PREFIX } from "../redis-keys.js";
import { withTimeout } from "../with-timeout.js";
import { DuplicateFilter } from "./duplicate-filter.js";
import type { LogEntry, LogOffset, OrderedLog, RecoveryBounds } from "./ordered-log.js";
import {
  decodeEntryFields,
  LOG_TRANSPORT,
  logReadersKey,
  logStreamKey,
  MESSAGE_FIELD,
  messageFields,
  responseFields,
  TRANSPORT_TTL,
  transportKey,
} from "./redis-log-wire.js";
import { RedisSessionStore } from "./redis-sessions.js";

/** Reconnection attempts an append waits for before it fails (delays 50, 100, 150, 200 ms: ~0.5 s), as redis.ts' publishes. */
const APPEND_RETRIES = 3;
/** How long one XREAD waits for new entries, in ms (then it simply asks again). */
const READ_BLOCK = 1000;
/** Entries one XREAD returns at most. */
const READ_COUNT = 100;
/**
 * A connection that looks ready but has not answered for this long (XREAD: beyond its BLOCK) is
 * taken for dead, in ms: a host that vanished without a reset (the old primary in a fail-over, a
 * NAT that forgot the flow) leaves ioredis waiting forever, since it has no timeout of its own
 * here. Its socket is destroyed; ioredis reconnects and sends the unanswered commands again.
 */
const STALL_TIMEOUT = 5000;
/** Pause before reading again after a failed XREAD, in ms. */
const READ_RETRY_DELAY = 250;
/** Entries one XRANGE of `readAfter` returns at most (a restore may ask for many; Redis answers in pages). */
const PAGE_SIZE = 1000;
/** How often the transport key and this reader's registration are refreshed (they live TRANSPORT_TTL), in ms. */
const REGISTRATION_INTERVAL = 20_000;
/** How long close() waits for each of its last commands (deregistration, QUIT), in ms. */
const CLOSE_TIMEOUT = 1000;
/** Local adapter uids remembered for routing responses (one per namespace; a bound against endless dynamic namespaces). */
const MAX_LOCAL_UIDS = 10_000;
/** Append ids remembered to drop copies of re-sent XADDs (duplicate-filter.ts): seconds of traffic at high rates. */
const DUPLICATE_WINDOW = 20_000;
/** Largest part of a stream ID: both halves are unsigned 64-bit. */
const MAX_ID_PART = 2n ** 64n - 1n;

/**
 * Tells emitters that this gateway reads the log (adapter/emitter/connection.ts appends to it
 * instead of publishing). A plain SET with a TTL: a gateway that stops refreshing it (every
 * RedisOrderedLog does, every 20 s) stops claiming the log after 60 s.
 */
export async function markLogTransport(client: RedisConnection, prefix = REDIS_KEY_PREFIX): Promise<void> {
  await client.set(transportKey(prefix), LOG_TRANSPORT, "PX", TRANSPORT_TTL);
}

/** When the stream is trimmed by age; tests shorten both. */
export interface LogTrimming {
  /** How often the stream is trimmed by age and size, in ms (any worker may: XTRIM is idempotent). @default 5000 */
  interval: number;
  /**
   * Entries are kept this much longer than `maxDisconnectionDuration`, in ms: connected sockets'
   * sessions are refreshed at most every 30 s (recovery-hub.ts), so a session can outlive its
   * socket's worker by `maxDisconnectionDuration` plus that, and the entries it needs must still be there.
   * @default 30000
   */
  slack: number;
}

const DEFAULT_TRIMMING: LogTrimming = { interval: 5000, slack: 30_000 };

interface LogEvents {
  up: [];
  down: [reason: string];
  /** Entries after `after` (where this reader was) and before `firstKept` were trimmed before it read them. */
  gap: [after: LogOffset, firstKept: LogOffset];
}

/**
 * The recovery log on one Redis Stream (`socket.io-log`), for one server or a Sentinel-managed
 * primary. Two connections: one for commands (XADD, XRANGE, sessions, trimming) and one that
 * only runs the blocking XREAD loop, which reads from where it last stopped, whatever happens to
 * the connection, so a Redis blip delays entries but never skips one the stream still holds.
 *
 * Every process reads every entry (no consumer group): each worker delivers every broadcast to
 * its own sockets. Responses go through the same stream, addressed with a `to` field, and are
 * handed only to the process whose adapter appended the request (see `onRead`).
 *
 * Limits: a reader that falls more than `maxEntries` behind (an event loop blocked while the
 * others flood the stream) finds the oldest of what it missed trimmed. It notices when it is
 * still behind at the next trim (every 5 s; `gap` event, logged as an error), not always.
 */
export class RedisOrderedLog extends EventEmitter<LogEvents> implements OrderedLog {
  readonly kind = "redis" as const;
  readonly sessions: RedisSessionStore;
  private readonly commands: RedisConnection;
  private readonly reader: RedisConnection;
  private readonly key = logStreamKey();
  /** This process in the readers' registry (emitters count them). */
  private readonly readerId = `${hostname()}:${process.pid}:${randomUUID()}`;
  /** The ID of the last entry read; undefined until the start (the stream's last entry at creation) is known. */
  private lastId: string | undefined;
  private receivers: { onEntry: (entry: LogEntry) => void; onResponse: (response: ClusterResponse) => void } | undefined;
  private reading = false;
  /** The uids of this process' adapters (they append with them): responses addressed to others are not ours. */
  private readonly localUids = new Set<string>();
  private readonly duplicates = new DuplicateFilter(DUPLICATE_WINDOW);
  /** Append ids: this random prefix and a counter, unique across processes without coordination. */
  private readonly appendPrefix = randomBytes(6).toString("base64url");
  private appendCount = 0;
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly trimming: LogTrimming;
  private connected = false;
  private closed = false;
  /** The first entry of the stream when a gap was last reported (each is reported once). */
  private reportedGap: string | undefined;

  constructor(
    url: string,
    private readonly bounds: RecoveryBounds,
    private readonly logger: Logger,
    trimming: Partial<LogTrimming> = {},
  ) {
    super();
    if (!Number.isSafeInteger(bounds.maxEntries) || bounds.maxEntries < 1)
      throw new RangeError(`recovery log: maxEntries must be a positive integer, got ${bounds.maxEntries}`);
    // Appends fail within ~0.5 s when Redis is away: the caller (an awaited broadcast) must learn it did not go through.
    this.commands = createRedisClient(url, "log", { maxRetriesPerRequest: APPEND_RETRIES });
    this.reader = createRedisClient(url, "log-reader");
    this.watch("commands", this.commands);
    this.watch("reader", this.reader);
    this.sessions = new RedisSessionStore(this.commands);
    this.trimming = { interval: trimming.interval ?? DEFAULT_TRIMMING.interval, slack: trimming.slack ?? DEFAULT_TRIMMING.slack };
    this.on("up", () => void this.register());
    this.timers.push(
      setInterval(() => void this.trim(), this.trimming.interval).unref(),
      setInterval(() => void this.register(), REGISTRATION_INTERVAL).unref(),
    );
    void this.findStart();
  }

  /** Reads the stream's last ID (`$`, made concrete so that nothing appended from now on is missed), until Redis answers. */
  private async findStart(): Promise<void> {
    let lastError = "";
    while (!this.closed) {
      try {
        const [last] = await this.commands.xrevrange(this.key, "+", "-", "COUNT", 1);
        this.lastId = last?.[0] ?? "0-0";
        this.updateState();
        this.startReading();
        return;
      } catch (error) {
        lastError = this.logFailure("could not read the end of the stream; asking again in 1 s", error as Error, lastError);
        await delay(1000, undefined, { ref: false });
      }
    }
  }

  subscribe(onEntry: (entry: LogEntry) => void, onResponse: (response: ClusterResponse) => void): void {
    this.receivers = { onEntry, onResponse };
    this.startReading();
  }

  /** Reading starts once both the start and the receivers are known: an entry read before would have nowhere to go. */
  private startReading(): void {
    if (this.reading || this.closed || this.lastId === undefined || !this.receivers) return;
    this.reading = true;
    void this.readLoop();
  }

  private async readLoop(): Promise<void> {
    let lastError = "";
    while (!this.closed) {
      let reply: [Buffer, [Buffer, Buffer[]][]][] | null;
      try {
        const read = this.reader.xreadBuffer("COUNT", READ_COUNT, "BLOCK", READ_BLOCK, "STREAMS", this.key, this.lastId!);
        reply = await this.unlessStalled("reader", this.reader, read, READ_BLOCK + STALL_TIMEOUT);
        lastError = "";
      } catch (error) {
        if (this.closed) return;
        // Same place next time: lastId only moves when an entry is read.
        lastError = this.logFailure(`read failed; reading again after ${this.lastId} in ${READ_RETRY_DELAY} ms`, error as Error, lastError);
        await delay(READ_RETRY_DELAY, undefined, { ref: false });
        continue;
      }
      for (const [, entries] of reply ?? []) for (const [id, fields] of entries) this.onRead(id.toString(), fields);
    }
  }

  private onRead(offset: LogOffset, fields: Buffer[]): void {
    this.lastId = offset;
    const decoded = decodeEntryFields(fields);
    if (!decoded) {
      this.logger.debug({ offset }, "recovery log: entry that is not ours dropped");
      return;
    }
    // A copied response would count twice toward a request's expected answers.
    if (this.duplicates.isCopy(decoded.appendId, offset)) {
      this.logger.debug({ offset }, "recovery log: copy of a re-sent append dropped");
      return;
    }
    try {
      if (decoded.kind === "message") this.receivers!.onEntry({ offset, message: decoded.message });
      else if (this.localUids.has(decoded.to)) this.receivers!.onResponse(decoded.response);
    } catch (error) {
      // One entry the adapter chokes on must not stop the log for this worker.
      this.logger.warn({ offset, err: (error as Error).message }, "recovery log: entry handler failed");
    }
  }

  async append(message: ClusterMessage): Promise<LogOffset> {
    this.rememberUid(message.uid);
    return this.add(messageFields(message, this.nextAppendId()), "append");
  }

  async respond(requesterUid: string, response: ClusterResponse): Promise<void> {
    await this.add(responseFields(requesterUid, response, this.nextAppendId()), "respond");
  }

  private nextAppendId(): string {
    return `${this.appendPrefix}.${(this.appendCount++).toString(36)}`;
  }

  private async add(fields: (string | Buffer)[], what: string): Promise<LogOffset> {
    // Not sent at all while disconnected: ioredis would queue it, and it could land after the caller gave up on it.
    // (The reader's state does not matter: what is appended is read once it is back.)
    if (this.closed || this.commands.status !== "ready" || this.lastId === undefined) throw this.unavailable(`${what}: not connected`);
    try {
      const id = await this.commands.xadd(this.key, "MAXLEN", "~", this.bounds.maxEntries, "*", ...fields);
      if (id === null) throw new Error("XADD returned no ID");
      return id;
    } catch (error) {
      throw this.unavailable(`${what} failed: ${describeRedisError(error as Error)}`);
    }
  }

  private rememberUid(uid: string): void {
    if (this.localUids.has(uid)) return;
    if (this.localUids.size >= MAX_LOCAL_UIDS) this.localUids.delete(this.localUids.values().next().value!);
    this.localUids.add(uid);
  }

  async readAfter(offset: LogOffset, limit: number): Promise<LogEntry[] | undefined> {
    if (!this.isOffset(offset)) return undefined;
    const entries: LogEntry[] = [];
    const appendIds = new Set<string>();
    let cursor = offset;
    // At least one page, even for limit 0: the offset itself must be checked.
    for (let first = true; ; first = false) {
      const count = Math.min(PAGE_SIZE, Math.max(1, limit - entries.length));
      const page = await this.pageAfter(cursor, count, first).catch((error: Error) => {
        throw error instanceof GatewayError ? error : this.unavailable(`readAfter failed: ${describeRedisError(error)}`);
      });
      if (!page) return undefined;
      for (const [id, fields] of page) {
        const decoded = decodeEntryFields(fields);
        if (decoded?.kind !== "message") continue;
        const entryOffset = id.toString();
        // A copy of a re-sent append: its first copy is either in this result or before `offset`.
        if (decoded.appendId !== undefined && (appendIds.has(decoded.appendId) || this.duplicates.isKnownCopy(decoded.appendId, entryOffset))) continue;
        if (decoded.appendId !== undefined) appendIds.add(decoded.appendId);
        entries.push({ offset: entryOffset, message: decoded.message });
      }
      if (page.length < count || entries.length >= limit) break;
      cursor = page[page.length - 1][0].toString();
    }
    return entries.slice(0, Math.max(0, limit));
  }

  /**
   * Up to `count` raw entries after `after`, or undefined when `after` is not in the stream (or,
   * for the client's own offset, is not a message). Both reads in one MULTI: trimming between a
   * check and the read could otherwise drop entries unnoticed.
   */
  private async pageAfter(after: string, count: number, mustBeMessage: boolean): Promise<[Buffer, Buffer[]][] | undefined> {
    const replies = await this.commands.multi().xrangeBuffer(this.key, after, after).xrangeBuffer(this.key, `(${after}`, "+", "COUNT", count).exec();
    if (!replies) throw this.unavailable("readAfter: transaction aborted");
    const [[anchorError, anchor], [pageError, page]] = replies as [[Error | null, [Buffer, Buffer[]][]], [Error | null, [Buffer, Buffer[]][]]];
    const failure = anchorError ?? pageError;
    if (failure) throw failure;
    if (anchor.length === 0) return undefined;
    if (mustBeMessage && !anchor[0][1].some((field, i) => i % 2 === 0 && field.toString() === MESSAGE_FIELD)) return undefined;
    return page;
  }

  compareOffsets(a: LogOffset, b: LogOffset): number {
    const [aTime, aSeq] = parseId(a);
    const [bTime, bSeq] = parseId(b);
    if (aTime !== bTime) return aTime < bTime ? -1 : 1;
    return aSeq === bSeq ? 0 : aSeq < bSeq ? -1 : 1;
  }

  isOffset(offset: string): boolean {
    if (typeof offset !== "string" || !/^\d{1,20}-\d{1,20}$/.test(offset)) return false;
    const [time, seq] = parseId(offset);
    return time <= MAX_ID_PART && seq <= MAX_ID_PART;
  }

  isConnected(): boolean {
    return this.connected;
  }

  whenConnected(): Promise<void> {
    return this.connected ? Promise.resolve() : new Promise((resolve) => this.once("up", resolve));
  }

  /** Trims by age (Redis' clock, which made the IDs) and by size; the size also bounds what emitters append untrimmed. */
  private async trim(): Promise<void> {
    if (!this.connected) return;
    try {
      // The trim doubles as the commands connection's liveness check (appends in flight are sent again).
      const [seconds] = await this.unlessStalled("commands", this.commands, this.commands.time(), STALL_TIMEOUT);
      const minTime = Number(seconds) * 1000 - this.bounds.maxDisconnectionDuration - this.trimming.slack;
      await Promise.all([
        minTime > 0 ? this.commands.xtrim(this.key, "MINID", "~", minTime) : undefined,
        this.commands.xtrim(this.key, "MAXLEN", "~", this.bounds.maxEntries),
      ]);
      await this.checkGap();
    } catch (error) {
      this.logger.debug({ err: describeRedisError(error as Error) }, "recovery log: trim failed (trying again at the next interval)");
    }
  }

  /**
   * Whether trimming (ours or another worker's) removed entries this reader has not read yet: the
   * stream has lost entries (Redis ≥ 7 counts `entries-added`; older servers skip the check) and
   * its first entry is past where this reader is. (Trimming does not update `max-deleted-entry-id`,
   * and a Redis that restarted empty has trimmed nothing, so it is not taken for a gap.)
   */
  private async checkGap(): Promise<void> {
    const after = this.lastId;
    const info = (await this.commands.xinfo("STREAM", this.key)) as unknown[];
    const value = (name: string): unknown => (info.indexOf(name) >= 0 ? info[info.indexOf(name) + 1] : undefined);
    const added = value("entries-added");
    const length = value("length");
    const first = (value("first-entry") as unknown[] | null | undefined)?.[0];
    if (typeof added !== "number" || typeof length !== "number" || added === length || typeof first !== "string" || after === undefined) return;
    if (!this.isOffset(first) || this.compareOffsets(first, after) <= 0 || first === this.reportedGap) return;
    this.reportedGap = first;
    this.logger.error(
      { after, firstKept: first, maxEntries: this.bounds.maxEntries },
      "recovery log: this worker fell behind; entries were trimmed before it read them",
    );
    this.emit("gap", after, first);
  }

  /** Refreshes the transport key (emitters append to the log) and this reader's registration (emitters count readers). */
  private async register(): Promise<void> {
    if (!this.connected) return;
    const now = Date.now();
    try {
      await Promise.all([
        markLogTransport(this.commands),
        this.commands.zadd(logReadersKey(), now + TRANSPORT_TTL, this.readerId),
        this.commands.zremrangebyscore(logReadersKey(), "-inf", now),
      ]);
    } catch (error) {
      this.logger.debug({ err: describeRedisError(error as Error) }, "recovery log: registration refresh failed (next one in 20 s)");
    }
  }

  private watch(role: "commands" | "reader", client: RedisConnection): void {
    // As in redis.ts: a new reason is a warning, its repetitions (reconnection attempts) debug noise.
    let lastError = "";
    client.on("error", (error: Error) => {
      lastError = this.logFailure(`${role} connection error`, error, lastError);
    });
    client.on("ready", () => {
      lastError = "";
      this.updateState();
    });
    client.on("close", () => this.updateState());
    client.on("end", () => this.updateState());
  }

  /**
   * `promise`, after destroying `client`'s socket if it has not settled within `ms` while the
   * connection looked ready (see STALL_TIMEOUT); a command still in the offline queue is not stalled.
   */
  private async unlessStalled<T>(role: string, client: RedisConnection, promise: Promise<T>, ms: number): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const check = (): void => {
      const stream = (client as Redis).stream as Redis["stream"] | undefined;
      if (client.status !== "ready" || !stream) {
        timer = setTimeout(check, ms);
        return;
      }
      this.logger.warn({ role, waited: ms }, "recovery log: Redis stopped answering on a connection that looks open; reconnecting it");
      stream.destroy(new Error(`no answer within ${ms} ms`));
      timer = setTimeout(check, ms); // the command is sent again on the new connection, which may be no better
    };
    timer = setTimeout(check, ms);
    try {
      return await promise;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Logs `what` at warn the first time its reason occurs in a row, at debug after; returns the reason. */
  private logFailure(what: string, error: Error, lastReason: string): string {
    const message = describeRedisError(error);
    const reason = message.replace(/\d+/g, "#");
    this.logger[reason === lastReason ? "debug" : "warn"]({ err: message }, `recovery log: ${what}`);
    return reason;
  }

  private updateState(): void {
    const connected = !this.closed && this.commands.status === "ready" && this.reader.status === "ready" && this.lastId !== undefined;
    if (connected === this.connected) return;
    this.connected = connected;
    if (connected) {
      this.logger.info({ after: this.lastId }, "recovery log up");
      this.emit("up");
    } else {
      const reason = `commands ${this.commands.status}, reader ${this.reader.status}`;
      if (!this.closed) this.logger.warn({ reason }, "recovery log down");
      this.emit("down", reason);
    }
  }

  private unavailable(detail: string): GatewayError {
    return new GatewayError("ERR_REDIS_UNAVAILABLE", `recovery log: ${detail}`);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    const wasConnected = this.connected;
    this.closed = true;
    for (const timer of this.timers) clearInterval(timer);
    // Bounded: a connection that stopped answering must not hold up a shutdown.
    const settled = (promise: Promise<unknown>): Promise<unknown> => withTimeout(promise, CLOSE_TIMEOUT, () => new Error("timeout")).catch(() => undefined);
    if (wasConnected) await settled(this.commands.zrem(logReadersKey(), this.readerId));
    this.updateState();
    // The reader is blocked in XREAD (QUIT would wait behind it): cut it; the loop sees `closed` and ends.
    this.reader.disconnect();
    await settled(this.commands.quit());
    this.commands.disconnect();
  }
}

/** A stream ID's two halves; only for IDs that passed the shape check. */
function parseId(id: string): [bigint, bigint] {
  const dash = id.indexOf("-");
  return [BigInt(id.slice(0, dash)), BigInt(id.slice(dash + 1))];
}
