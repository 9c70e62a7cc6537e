import { once } from "node:events";
import { GatewayError } from "../../common/errors.js";
import { clampLimit, presenceKeys, scanMembers } from "../presence/presence-keys.js";
import type { PresenceMember } from "../presence/types.js";
import { describeRedisError, type RedisConnection } from "../redis-client.js";
import { withTimeout } from "../with-timeout.js";

/** Members a list returns when the caller names no limit, and the most it returns. */
const DEFAULT_LIMIT = 100;
const MAX_LIMIT = 10_000;

/**
 * A room's presence read from outside Socket.IO (`emitter.presence(room)`), straight from the
 * gateway's Redis keys (adapter/presence/presence-keys.ts): the count is one HLEN, the list an
 * HSCAN that stops at `limit`. Like every emitter call it waits for the connection (whose offline
 * queue is off) and rejects with ERR_REDIS_UNAVAILABLE after `timeout` ms.
 */
export class PresenceReader {
  private readonly key: string;

  /** @internal */
  constructor(
    private readonly client: RedisConnection,
    private readonly timeout: number,
    readonly namespace: string,
    readonly room: string,
  ) {
    this.key = presenceKeys().room(namespace, room);
  }

  /** How many members the room has across the cluster. */
  count(): Promise<number> {
    return this.read("HLEN", () => this.client.hlen(this.key));
  }

  /** Up to `limit` (default 100, at most 10,000) members: socket id and public record. */
  members(options: { limit?: number } = {}): Promise<PresenceMember[]> {
    const limit = clampLimit(options.limit, DEFAULT_LIMIT, MAX_LIMIT);
    return this.read("HSCAN", () => scanMembers((key, cursor, count) => this.client.hscan(key, cursor, "COUNT", count), this.key, limit));
  }

  private read<T>(what: string, command: () => Promise<T>): Promise<T> {
    const unavailable = (detail: string): GatewayError => new GatewayError("ERR_REDIS_UNAVAILABLE", `presence: Redis is unavailable: ${detail}`);
    const run = async (): Promise<T> => {
      if (this.client.status === "end") throw unavailable("the emitter is closed");
      if (this.client.status !== "ready") await once(this.client as unknown as NodeJS.EventEmitter, "ready");
      return command();
    };
    return withTimeout(run(), this.timeout, () => unavailable(`no answer to ${what} within ${this.timeout} ms`)).catch((error: Error) => {
      throw error instanceof GatewayError ? error : unavailable(describeRedisError(error));
    });
  }
}
