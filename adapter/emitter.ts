import { Emitter as StockEmitter, RESERVED_EVENTS, type BroadcastOperator as StockOperator } from "@socket.io/redis-emitter";
import type { Redis } from "ioredis";
import { GatewayError } from "../gateway/errors.js";
import { createRedisClient } from "./redis-client.js";
import { describeRedisTarget } from "./redis-url.js";
import { REDIS_KEY_PREFIX } from "./redis-keys.js";

/**
 * Push events into a sio-gateway cluster from any Node process (cron jobs, API servers, queue
 * consumers), through the gateway's Redis.
 *
 * The wire format is the stock `@socket.io/redis-emitter`'s (it encodes; we publish). What
 * this adds: every call resolves with how many gateway processes received it (Redis PUBLISH's
 * answer: 0 means nobody was listening), and rejects within `timeout` ms with a clear error when
 * Redis is unreachable, instead of queueing forever. Nothing is queued for later: a call that
 * rejected is never delivered afterwards.
 */

/** Event name → listener signature, as in Socket.IO's typed events. */
export type EventsMap = Record<string, (...args: any[]) => void>;
type EventNames<E extends EventsMap> = keyof E & string;

export interface GatewayEmitterOptions {
  /** A `redis://` / `rediss://` URL (as `sio-gateway start --redis`), or an ioredis client you own. */
  redis: string | Redis;
  /** Redis key prefix; must match the gateway's. @default "socket.io" */
  key?: string;
  /** How long a call may wait for Redis before it rejects, in ms. @default 5000 */
  timeout?: number;
}

/**
 * Publishes what the stock emitter encodes, and hands the publish back to the caller: the stock
 * emitter calls `publish()` synchronously and drops its result, so the last one is captured.
 */
class Publisher {
  private captured: Promise<number> | undefined;

  constructor(private readonly client: Redis, private readonly where: string, private readonly timeout: number) {}

  /** Runs `encodeAndPublish` (which calls publish() once) and returns that publish's receiver count. */
  capture(encodeAndPublish: () => void): Promise<number> {
    this.captured = undefined;
    try {
      encodeAndPublish();
    } catch (error) {
      return Promise.reject(error);
    }
    const published = this.captured;
    this.captured = undefined;
    return published ?? Promise.reject(new Error("the emitter published nothing"));
  }

  /** Called by the stock emitter. */
  publish(channel: string, message: string | Buffer): Promise<number> {
    this.captured = this.publishBounded(channel, message);
    return this.captured;
  }

  private async publishBounded(channel: string, message: string | Buffer): Promise<number> {
    const deadline = Date.now() + this.timeout;
    await this.whenReady(deadline);
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(this.unavailable(`no answer to PUBLISH within ${this.timeout} ms`)), Math.max(0, deadline - Date.now()));
    });
    try {
      return await Promise.race([this.client.publish(channel, message), timedOut]);
    } catch (error) {
      // ioredis' own words ("Connection is closed.", "Stream isn't writeable…") become our one error.
      throw error instanceof GatewayError ? error : this.unavailable((error as Error).message);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Waits for the connection, at most until `deadline`: with the offline queue off, a command sent before would fail. */
  private whenReady(deadline: number): Promise<void> {
    if (this.client.status === "ready") return Promise.resolve();
    if (this.client.status === "end") return Promise.reject(this.unavailable("the emitter is closed"));
    return new Promise((resolve, reject) => {
      let lastError = "";
      const onError = (error: Error): void => {
        lastError = error.message;
      };
      const onReady = (): void => {
        cleanup();
        resolve();
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(this.unavailable(`no connection within ${this.timeout} ms${lastError ? `; last error: ${lastError}` : ""}`));
      }, Math.max(0, deadline - Date.now()));
      const cleanup = (): void => {
        clearTimeout(timer);
        this.client.off("ready", onReady);
        this.client.off("error", onError);
      };
      this.client.on("ready", onReady);
      this.client.on("error", onError);
    });
  }

  private unavailable(detail: string): GatewayError {
    return new GatewayError("ERR_REDIS_UNAVAILABLE", `Redis at ${this.where} is unavailable: ${detail}`);
  }
}

/** A set of target rooms (and rooms to leave out) in one namespace. */
export class GatewayBroadcast<E extends EventsMap = EventsMap> {
  /** @internal */
  constructor(private readonly publisher: Publisher, private readonly stock: StockOperator<any>) {}

  /** Targets sockets in `rooms` too (union). */
  to(rooms: string | string[]): GatewayBroadcast<E> {
    return new GatewayBroadcast(this.publisher, this.stock.to(rooms));
  }

  /** Same as `to`. */
  in(rooms: string | string[]): GatewayBroadcast<E> {
    return this.to(rooms);
  }

  /** Leaves out sockets in `rooms`. */
  except(rooms: string | string[]): GatewayBroadcast<E> {
    return new GatewayBroadcast(this.publisher, this.stock.except(rooms));
  }

  /** Emits to the targeted sockets; resolves with the number of gateway processes that received it. */
  emit<Ev extends EventNames<E>>(event: Ev, ...args: Parameters<E[Ev]>): Promise<number> {
    if (RESERVED_EVENTS.has(event)) return Promise.reject(new GatewayError("ERR_INVALID_EMIT", `"${event}" is a reserved event name`));
    return this.publisher.capture(() => this.stock.emit(event as never, ...(args as unknown as never[])));
  }

  /** Makes the targeted sockets join `rooms`. */
  socketsJoin(rooms: string | string[]): Promise<number> {
    return this.publisher.capture(() => this.stock.socketsJoin(rooms));
  }

  /** Makes the targeted sockets leave `rooms`. */
  socketsLeave(rooms: string | string[]): Promise<number> {
    return this.publisher.capture(() => this.stock.socketsLeave(rooms));
  }

  /** Disconnects the targeted sockets (`close`: also close the underlying connection). */
  disconnectSockets(close = false): Promise<number> {
    return this.publisher.capture(() => this.stock.disconnectSockets(close));
  }
}

/** The Redis connection behind an emitter and the emitters `of()` derives from it. */
interface SharedConnection {
  client: Redis;
  /** True when the emitter opened the client (from a URL), so close() quits it. */
  ownsClient: boolean;
  publisher: Publisher;
}

function openConnection(options: GatewayEmitterOptions): SharedConnection {
  if (typeof options.redis !== "string") {
    return { client: options.redis, ownsClient: false, publisher: new Publisher(options.redis, "the given client", options.timeout ?? 5000) };
  }
  // No offline queue: a call made while Redis is away must fail within its timeout, not be delivered minutes later.
  const client = createRedisClient(options.redis, "emitter", { enableOfflineQueue: false, maxRetriesPerRequest: 0 });
  client.on("error", () => {}); // reported by the calls that fail, with the last error
  return { client, ownsClient: true, publisher: new Publisher(client, describeRedisTarget(options.redis), options.timeout ?? 5000) };
}

/** The emitter of one namespace ("/" by default); `of()` gives another on the same connection. */
export class GatewayEmitter<E extends EventsMap = EventsMap> extends GatewayBroadcast<E> {
  private readonly connection: SharedConnection;
  private readonly stockEmitter: StockEmitter<any>;

  constructor(private readonly options: GatewayEmitterOptions, namespace = "/", connection: SharedConnection = openConnection(options)) {
    const stockEmitter = new StockEmitter(connection.publisher, { key: options.key ?? REDIS_KEY_PREFIX }, namespace);
    super(connection.publisher, stockEmitter.to([]));
    this.connection = connection;
    this.stockEmitter = stockEmitter;
  }

  /** The emitter of another namespace, sharing this one's connection. */
  of<F extends EventsMap = E>(namespace: string): GatewayEmitter<F> {
    return new GatewayEmitter<F>(this.options, namespace, this.connection);
  }

  /** Emits to the gateway processes' server-side `io.on(event)` listeners (not to clients). */
  serverSideEmit(event: string, ...args: unknown[]): Promise<number> {
    return this.connection.publisher.capture(() => this.stockEmitter.serverSideEmit(event, ...args));
  }

  /** Closes the Redis connection if the emitter opened it (emitters from `of()` share it). Idempotent. */
  async close(): Promise<void> {
    const { client, ownsClient } = this.connection;
    if (!ownsClient || client.status === "end") return;
    await client.quit().catch(() => client.disconnect());
  }
}
