import { EventEmitter } from "node:events";
import type { Logger } from "pino";
import { GatewayError } from "../../common/errors.js";
import { createRedisClient, describeRedisError, type RedisConnection } from "../redis-client.js";
import { withTimeout } from "../with-timeout.js";
import { parseChangeMessage } from "./change-message.js";
import { PRESENCE_PREFIX, presenceKeys, scanMembers, type PresenceKeys } from "./presence-keys.js";
import { HEARTBEAT, JOIN, LEAVE, REAP, RETIRE } from "./redis-scripts.js";
import { UNKNOWN_OWNER, type PresenceChange, type PresenceCount, type PresenceMember, type PresenceStore } from "./types.js";

/** Memberships of one dead owner one REAP call handles: bounds the time one script holds Redis. */
const REAP_BATCH = 500;
/** REAP calls per reap(): with REAP_BATCH, 10,000 expired memberships per second per worker at most. */
const REAP_CALLS = 20;

type Script = (...args: (string | number)[]) => Promise<unknown>;
interface PresenceScripts {
  presenceHeartbeat: Script;
  presenceJoin: Script;
  presenceLeave: Script;
  presenceReap: Script;
  presenceRetire: Script;
}

export interface RedisPresenceOptions {
  /** This worker incarnation's owner id (unique per process start). */
  owner: string;
  /** How long an owner lives without a heartbeat, in ms. */
  ownerTtl: number;
  /** How long one call may wait for Redis, in ms. */
  timeout: number;
}

/**
 * Presence in Redis (adapter/presence/presence-keys.ts has the layout, redis-scripts.ts the
 * scripts). Joins and leaves are one script each, O(1) whatever the room size; a count is HLEN.
 * Every change is published on one channel, which each gateway process subscribes to once.
 * Crash safety: each worker incarnation is an owner with a deadline it pushes forward by
 * heartbeats; the members of an owner past its deadline are removed by any live worker's REAP.
 */
export class RedisPresenceStore extends EventEmitter<{ change: [PresenceChange] }> implements PresenceStore {
  readonly kind = "redis" as const;
  private readonly client: RedisConnection & PresenceScripts;
  private readonly sub: RedisConnection;
  private readonly keys: PresenceKeys = presenceKeys(PRESENCE_PREFIX);

  constructor(
    url: string,
    private readonly options: RedisPresenceOptions,
    private readonly logger: Logger,
  ) {
    super();
    this.client = createRedisClient(url, "presence", { maxRetriesPerRequest: 3 }) as RedisConnection & PresenceScripts;
    this.client.defineCommand("presenceHeartbeat", { numberOfKeys: 1, lua: HEARTBEAT });
    this.client.defineCommand("presenceJoin", { numberOfKeys: 4, lua: JOIN });
    this.client.defineCommand("presenceLeave", { numberOfKeys: 3, lua: LEAVE });
    this.client.defineCommand("presenceReap", { numberOfKeys: 2, lua: REAP });
    this.client.defineCommand("presenceRetire", { numberOfKeys: 1, lua: RETIRE });
    this.sub = createRedisClient(url, "presence-sub");
    // The adapter logs Redis trouble already; these connections only add a debug line. (Redis | Cluster:
    // the union of their `on` overloads is not callable; both are EventEmitters.)
    for (const [role, client] of [
      ["presence", this.client as EventEmitter],
      ["presence-sub", this.sub as EventEmitter],
    ] as const) {
      client.on("error", (error: Error) => this.logger.debug({ role, err: describeRedisError(error) }, "redis error"));
    }
    (this.sub as EventEmitter).on("message", (channel: string, text: string) => {
      if (channel !== this.keys.channel) return;
      const change = parseChangeMessage(text);
      if (change) this.emit("change", change);
      else this.logger.debug({ length: text.length }, "presence: dropped a malformed change message");
    });
    // ioredis subscribes again by itself after a reconnection.
    this.sub.subscribe(this.keys.channel).catch((error: Error) => this.logger.warn({ err: error.message }, "presence: could not subscribe to changes"));
  }

  private call<T>(what: string, promise: Promise<T>): Promise<T> {
    return withTimeout(
      promise,
      this.options.timeout,
      () => new GatewayError("ERR_REDIS_UNAVAILABLE", `presence: no answer to ${what} within ${this.options.timeout} ms`),
    );
  }

  async heartbeat(): Promise<boolean> {
    return (await this.call("HEARTBEAT", this.client.presenceHeartbeat(this.keys.owners, this.options.owner, this.options.ownerTtl))) === 1;
  }

  async join(namespace: string, room: string, id: string, infoJson: string): Promise<PresenceCount | typeof UNKNOWN_OWNER> {
    const { owners, seq, channel } = this.keys;
    const args = [
      owners,
      this.keys.room(namespace, room),
      this.keys.owner(this.options.owner),
      seq,
      this.options.owner,
      namespace,
      room,
      id,
      infoJson,
      channel,
    ];
    const [count, at] = (await this.call("JOIN", this.client.presenceJoin(...args))) as [number, number];
    return count < 0 ? UNKNOWN_OWNER : { count, seq: at };
  }

  async leave(namespace: string, room: string, id: string): Promise<PresenceCount> {
    const { seq, channel } = this.keys;
    const args = [this.keys.room(namespace, room), this.keys.owner(this.options.owner), seq, this.options.owner, namespace, room, id, channel];
    const [count, at] = (await this.call("LEAVE", this.client.presenceLeave(...args))) as [number, number];
    return { count, seq: at };
  }

  count(namespace: string, room: string): Promise<number> {
    return this.call("HLEN", this.client.hlen(this.keys.room(namespace, room)));
  }

  members(namespace: string, room: string, limit: number): Promise<PresenceMember[]> {
    const hscan = (key: string, cursor: string, count: number): Promise<[string, string[]]> => this.client.hscan(key, cursor, "COUNT", count);
    return this.call("HSCAN", scanMembers(hscan, this.keys.room(namespace, room), limit));
  }

  async reap(): Promise<void> {
    for (let call = 0; call < REAP_CALLS; call++) {
      const handled = (await this.call(
        "REAP",
        this.client.presenceReap(this.keys.owners, this.keys.seq, PRESENCE_PREFIX, REAP_BATCH, this.keys.channel),
      )) as number;
      if (handled < 0) return;
      if (handled > 0) this.logger.debug({ handled }, "presence: removed members of an expired worker");
    }
  }

  onChange(listener: (change: PresenceChange) => void): void {
    this.on("change", listener);
  }

  /** Marks this owner expired (its members go at the next reap, by any worker), then closes the connections. */
  async close(): Promise<void> {
    await this.call("RETIRE", this.client.presenceRetire(this.keys.owners, this.options.owner)).catch(() => undefined);
    await this.call("REAP", this.reap()).catch(() => undefined);
    for (const client of [this.client, this.sub]) await client.quit().catch(() => client.disconnect());
  }
}
