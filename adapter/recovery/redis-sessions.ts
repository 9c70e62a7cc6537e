import { decode, encode } from "notepack.io";
import type { RedisConnection } from "../redis-client.js";
import { REDIS_KEY_PREFIX } from "../redis-keys.js";
import type { SessionRecord, SessionStore } from "./ordered-log.js";

/**
 * At most this many bytes of encoded record per session: `data` is `socket.data`, which the app
 * fills as it likes (and which may hold what a client sent), and every session is copied to Redis
 * and kept there for `maxDisconnectionDuration`; a bound keeps one socket from filling Redis.
 */
export const MAX_SESSION_BYTES = 64 * 1024;

/** Private session ids are short random strings; a longer "pid" is client input not worth a Redis key. */
const MAX_PID_LENGTH = 256;

/**
 * A session is a hash `{ owner, record }` under `<prefix>-session#<pid>`: the owner in a field of
 * its own so that the scripts below compare it without decoding the record (msgpack, because
 * `socket.data` may hold Buffers). Each script is one atomic step, so of a restore (take) and the
 * old owner's last save at disconnect (saveIfOwner), whichever comes second sees the first.
 */
const SCRIPTS = {
  sioSessionSave: `redis.call('HSET', KEYS[1], 'owner', ARGV[1], 'record', ARGV[2])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return 1`,
  // Absent means restored (taken) by another worker or expired: either way not ours to write any more.
  sioSessionSaveIfOwner: `if redis.call('HGET', KEYS[1], 'owner') ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'record', ARGV[2])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return 1`,
  // HGETDEL only exists from Redis 8.
  sioSessionTake: `local record = redis.call('HGET', KEYS[1], 'record')
if record then redis.call('DEL', KEYS[1]) end
return record`,
  sioSessionRemove: `if redis.call('HGET', KEYS[1], 'owner') ~= ARGV[1] then return 0 end
return redis.call('DEL', KEYS[1])`,
};

/** The commands `defineCommand` adds (ioredis sends EVALSHA and falls back to EVAL on NOSCRIPT). */
interface SessionCommands {
  sioSessionSave(key: string, owner: string, record: Buffer, ttl: number): Promise<number>;
  sioSessionSaveIfOwner(key: string, owner: string, record: Buffer, ttl: number): Promise<number>;
  sioSessionTakeBuffer(key: string): Promise<Buffer | null>;
  sioSessionRemove(key: string, owner: string): Promise<number>;
}

/** Recovery sessions in Redis, where any worker can restore them, also after the one that held the socket died. */
export class RedisSessionStore implements SessionStore {
  private readonly commands: SessionCommands;

  constructor(
    client: RedisConnection,
    private readonly prefix = REDIS_KEY_PREFIX,
  ) {
    for (const [name, lua] of Object.entries(SCRIPTS)) client.defineCommand(name, { lua, numberOfKeys: 1 });
    this.commands = client as unknown as SessionCommands;
  }

  async save(record: SessionRecord, ttl: number): Promise<void> {
    await this.commands.sioSessionSave(this.key(record.pid), record.owner, encodeRecord(record), pexpire(ttl));
  }

  /** Not saved when the session was restored elsewhere (taken), expired, or is owned by another. */
  async saveIfOwner(record: SessionRecord, ttl: number): Promise<void> {
    await this.commands.sioSessionSaveIfOwner(this.key(record.pid), record.owner, encodeRecord(record), pexpire(ttl));
  }

  async take(pid: string): Promise<SessionRecord | undefined> {
    if (!isPid(pid)) return undefined;
    const stored = await this.commands.sioSessionTakeBuffer(this.key(pid));
    return stored ? decodeRecord(stored) : undefined;
  }

  async remove(pid: string, owner: string): Promise<void> {
    if (!isPid(pid)) return;
    await this.commands.sioSessionRemove(this.key(pid), owner);
  }

  private key(pid: string): string {
    if (!isPid(pid)) throw new RangeError(`invalid recovery session id: expected 1 to ${MAX_PID_LENGTH} characters`);
    return `${this.prefix}-session#${pid}`;
  }
}

function isPid(pid: unknown): pid is string {
  return typeof pid === "string" && pid.length > 0 && pid.length <= MAX_PID_LENGTH;
}

/** PEXPIRE wants a positive integer; a TTL of 0 or less would delete the key at once. */
function pexpire(ttl: number): number {
  return Math.max(1, Math.ceil(ttl));
}

function encodeRecord(record: SessionRecord): Buffer {
  const encoded = encode({ sid: record.sid, pid: record.pid, rooms: record.rooms, data: record.data, owner: record.owner }) as Buffer;
  if (encoded.length > MAX_SESSION_BYTES) {
    throw new RangeError(
      `recovery session of socket ${record.sid} not saved: ${encoded.length} bytes encoded, at most ${MAX_SESSION_BYTES} (socket.data too large?)`,
    );
  }
  return encoded;
}

/** What Redis gave back, checked: the store is shared with every worker and whatever else writes to that Redis. */
function decodeRecord(stored: Buffer): SessionRecord | undefined {
  let value: unknown;
  try {
    value = decode(stored);
  } catch {
    return undefined;
  }
  if (!value || typeof value !== "object") return undefined;
  const { sid, pid, rooms, data, owner } = value as Record<string, unknown>;
  if (typeof sid !== "string" || typeof pid !== "string" || typeof owner !== "string") return undefined;
  if (!Array.isArray(rooms) || !rooms.every((room) => typeof room === "string")) return undefined;
  return { sid, pid, rooms, data, owner };
}
