import { RESERVED_EVENTS } from "@socket.io/redis-emitter";
import type { Cluster, Redis } from "ioredis";
import { GatewayError } from "../../common/errors.js";
import { EmitterConnection } from "./connection.js";
import { PresenceReader } from "./presence-reader.js";
import type { EmitterTarget } from "./request.js";
import { createRedisClient } from "../redis-client.js";
import { REDIS_KEY_PREFIX } from "../redis-keys.js";
import { describeRedisTarget, parseRedisTarget, type PubSubChoice } from "../redis-url.js";

/**
 * Push events into a sio-gateway cluster from any Node process (cron jobs, API servers, queue
 * consumers), through the gateway's Redis: one server, Sentinel or Redis Cluster.
 *
 * On the wire it is what the gateway's adapter listens to: the stock
 * `@socket.io/redis-emitter`'s format (it encodes; we publish), or, on a Cluster with sharded
 * pub/sub, the sharded adapter's (adapter/sharded-wire.ts). What this adds: every call resolves
 * with how many gateway processes received it (Redis' answer to PUBLISH/SPUBLISH: 0 means nobody
 * was listening), and rejects within `timeout` ms with a clear error when Redis is unreachable,
 * instead of queueing forever. Nothing is queued for later: a call that rejected is never
 * delivered afterwards.
 */

/** Event name → listener signature, as in Socket.IO's typed events. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- as Socket.IO's own: only `any[]` lets both specific listeners fit the constraint and the default map take any arguments.
export type EventsMap = Record<string, (...args: any[]) => void>;
type EventNames<E extends EventsMap> = keyof E & string;

export interface GatewayEmitterOptions {
  /** A URL as `sio-gateway start --redis` takes (redis://, rediss://, redis-sentinel://, redis-cluster://), or an ioredis client you own. */
  redis: string | Redis | Cluster;
  /** Redis key prefix; must match the gateway's. @default "socket.io" */
  key?: string;
  /** How long a call may wait for Redis before it rejects, in ms. @default 5000 */
  timeout?: number;
  /** On a Cluster: sharded or plain pub/sub; must match the gateway's. @default the URL's `?pubsub=`, else "auto" (sharded on Redis ≥ 7) */
  pubsub?: PubSubChoice;
}

/** How long a call may wait for Redis, in ms. */
const DEFAULT_TIMEOUT = 5000;

/** A set of target rooms (and rooms to leave out) in one namespace. */
export class GatewayBroadcast<E extends EventsMap = EventsMap> {
  /** @internal */
  constructor(
    protected readonly connection: EmitterConnection,
    protected readonly target: EmitterTarget,
  ) {}

  /** Targets sockets in `rooms` too (union). */
  to(rooms: string | string[]): GatewayBroadcast<E> {
    return new GatewayBroadcast(this.connection, { ...this.target, rooms: union(this.target.rooms, rooms) });
  }

  /** Same as `to`. */
  in(rooms: string | string[]): GatewayBroadcast<E> {
    return this.to(rooms);
  }

  /** Leaves out sockets in `rooms`. */
  except(rooms: string | string[]): GatewayBroadcast<E> {
    return new GatewayBroadcast(this.connection, { ...this.target, except: union(this.target.except, rooms) });
  }

  /** Emits to the targeted sockets; resolves with the number of gateway processes that received it. */
  emit<Ev extends EventNames<E>>(event: Ev, ...args: Parameters<E[Ev]>): Promise<number> {
    if (RESERVED_EVENTS.has(event)) return Promise.reject(new GatewayError("ERR_INVALID_EMIT", `"${event}" is a reserved event name`));
    return this.connection.send({ type: "broadcast", target: this.target, event, args });
  }

  /** Makes the targeted sockets join `rooms`. */
  socketsJoin(rooms: string | string[]): Promise<number> {
    return this.connection.send({ type: "join", target: this.target, rooms: union([], rooms) });
  }

  /** Makes the targeted sockets leave `rooms`. */
  socketsLeave(rooms: string | string[]): Promise<number> {
    return this.connection.send({ type: "leave", target: this.target, rooms: union([], rooms) });
  }

  /** Disconnects the targeted sockets (`close`: also close the underlying connection). */
  disconnectSockets(close = false): Promise<number> {
    return this.connection.send({ type: "disconnect", target: this.target, close });
  }
}

/** `rooms` added to `current`, each once, in order. */
function union(current: string[], rooms: string | string[]): string[] {
  return [...new Set([...current, ...(Array.isArray(rooms) ? rooms : [rooms])])];
}

function openConnection(options: GatewayEmitterOptions): EmitterConnection {
  const prefix = options.key ?? REDIS_KEY_PREFIX;
  const timeout = options.timeout ?? DEFAULT_TIMEOUT;
  if (typeof options.redis !== "string") {
    return new EmitterConnection(options.redis, false, "the given client", options.pubsub ?? "auto", prefix, timeout);
  }
  const target = parseRedisTarget(options.redis);
  if (!target) throw new GatewayError("ERR_INVALID_OPTION", `invalid Redis URL for the emitter: ${describeRedisTarget(options.redis)}`);
  const pubsub = options.pubsub ?? (target.kind === "cluster" ? target.pubsub : "auto");
  // No offline queue: a call made while Redis is away must fail within its timeout, not be delivered minutes later.
  const client = createRedisClient(options.redis, "emitter", { enableOfflineQueue: false, maxRetriesPerRequest: 0 });
  client.on("error", () => {}); // reported by the calls that fail, with the last error
  return new EmitterConnection(client, true, describeRedisTarget(options.redis), pubsub, prefix, timeout);
}

/** The emitter of one namespace ("/" by default); `of()` gives another on the same connection. */
export class GatewayEmitter<E extends EventsMap = EventsMap> extends GatewayBroadcast<E> {
  constructor(
    private readonly options: GatewayEmitterOptions,
    namespace = "/",
    connection: EmitterConnection = openConnection(options),
  ) {
    super(connection, { namespace, rooms: [], except: [] });
  }

  /** The emitter of another namespace, sharing this one's connection. */
  of<F extends EventsMap = E>(namespace: string): GatewayEmitter<F> {
    return new GatewayEmitter<F>(this.options, namespace, this.connection);
  }

  /** Emits to the gateway processes' server-side `io.on(event)` listeners (not to clients). */
  serverSideEmit(event: string, ...args: unknown[]): Promise<number> {
    return this.connection.send({ type: "server-side-emit", namespace: this.target.namespace, event, args });
  }

  /** Reads a room's presence in this emitter's namespace: `await emitter.presence("lobby").count()`, `.members({ limit })`. */
  presence(room: string): PresenceReader {
    return new PresenceReader(this.connection.client, this.options.timeout ?? DEFAULT_TIMEOUT, this.target.namespace, room);
  }

  /** Closes the Redis connection if the emitter opened it (emitters from `of()` share it). Idempotent. */
  close(): Promise<void> {
    return this.connection.close();
  }
}
