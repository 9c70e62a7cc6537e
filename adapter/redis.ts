import { EventEmitter } from "node:events";
import { createAdapter } from "@socket.io/redis-adapter";
import type { Redis } from "ioredis";
import type { Logger } from "pino";
import type { Namespace } from "socket.io";
import type { Adapter } from "socket.io-adapter";
import { createRedisClient } from "./redis-client.js";
import { REDIS_KEY_PREFIX } from "./redis-keys.js";
import type { GatewayAdapter, GatewayAdapterEvents } from "./types.js";

/** Reconnection attempts a queued publish waits for before it fails (delays 50, 100, 150, 200 ms). */
const PUBLISH_RETRIES = 3;

/**
 * Rooms and broadcasts shared through Redis: `@socket.io/redis-adapter` on two ioredis
 * connections (a subscribed connection cannot publish). ioredis reconnects by itself and
 * queues commands while it does, so a short Redis outage delays broadcasts instead of losing
 * them; a publish that still fails is logged here and reported ("publish-failed", counted in the metrics), because the adapter does not
 * handle the promise it gets back (it would be an unhandled rejection).
 */
export class RedisGatewayAdapter extends EventEmitter<GatewayAdapterEvents> implements GatewayAdapter {
  readonly kind = "redis" as const;
  readonly factory: (nsp: Namespace) => Adapter;
  private readonly pub: Redis;
  private readonly sub: Redis;
  private connected = false;
  private closed = false;

  constructor(url: string, private readonly logger: Logger) {
    super();
    // A publish waits through a short blip (ioredis queues it while it reconnects), but after
    // PUBLISH_RETRIES reconnection attempts (~0.5 s) it fails, and is counted and logged below,
    // rather than piling up for a Redis that may be gone for minutes.
    this.pub = createRedisClient(url, "pub", { maxRetriesPerRequest: PUBLISH_RETRIES });
    this.sub = createRedisClient(url, "sub");
    for (const [role, client] of [["pub", this.pub], ["sub", this.sub]] as const) {
      client.on("error", (error: Error) => this.logger.debug({ role, err: error.message }, "redis error"));
      client.on("ready", () => this.updateState());
      client.on("close", () => this.updateState());
      client.on("end", () => this.updateState());
    }
    this.countFailedPublishes();
    this.factory = createAdapter(this.pub, this.sub, { key: REDIS_KEY_PREFIX }) as unknown as (nsp: Namespace) => Adapter;
  }

  /** Wraps `publish` so that a rejected publish is counted and logged instead of crashing the process. */
  private countFailedPublishes(): void {
    const publish = this.pub.publish.bind(this.pub) as (channel: string, message: string | Buffer) => Promise<number>;
    (this.pub as unknown as { publish: typeof publish }).publish = (channel, message) =>
      publish(channel, message).catch((error: Error) => {
        this.emit("publish-failed", channel, error);
        this.logger.warn({ channel, err: error.message }, "redis publish failed: message not delivered to other nodes");
        return 0;
      });
  }

  private updateState(): void {
    const connected = !this.closed && this.pub.status === "ready" && this.sub.status === "ready";
    if (connected === this.connected) return;
    this.connected = connected;
    if (connected) {
      this.logger.info("redis up");
      this.emit("up");
    } else {
      const reason = `pub ${this.pub.status}, sub ${this.sub.status}`;
      if (!this.closed) this.logger.warn({ reason }, "redis down");
      this.emit("down", reason);
    }
  }

  isConnected(): boolean {
    return this.connected;
  }

  whenConnected(): Promise<void> {
    return this.connected ? Promise.resolve() : new Promise((resolve) => this.once("up", resolve));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.allSettled([this.pub.quit(), this.sub.quit()]);
    this.pub.disconnect();
    this.sub.disconnect();
  }
}
