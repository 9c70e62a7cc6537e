import { Cluster, Redis, type ClusterOptions, type RedisOptions } from "ioredis";
import { parseRedisTarget } from "./redis-url.js";

/**
 * An ioredis error in words a user can act on: a Cluster reports "Failed to refresh slots
 * cache." and keeps the node's own reason (WRONGPASS, ECONNREFUSED…) in `lastNodeError`.
 */
export function describeRedisError(error: Error & { lastNodeError?: Error }): string {
  return error.lastNodeError ? `${error.message} (${error.lastNodeError.message})` : error.message;
}

/** A connection to any of the accepted targets: one server or Sentinel (`Redis`), or a Redis Cluster. */
export type RedisConnection = Redis | Cluster;

export interface RedisClientOverrides {
  /** Commands sent while disconnected wait for the connection (true) or fail at once (false). */
  enableOfflineQueue?: boolean;
  /** Reconnection attempts a queued command waits for (on a Cluster: per node connection). */
  maxRetriesPerRequest?: number;
  /** Cluster only: one subscriber connection per shard, which SSUBSCRIBE needs. */
  shardedSubscribers?: boolean;
}

/**
 * The one way sio-gateway opens a Redis connection, so the gateway (`--redis`), the emitter
 * module and `sio-gateway emit` accept the same forms (adapter/redis-url.ts): one server, a
 * Sentinel-managed primary that ioredis follows through fail-overs, or a Redis Cluster whose
 * slot map ioredis follows (MOVED/ASK, fail-overs). ioredis reconnects on its own with back-off.
 */
export function createRedisClient(url: string, role: string, overrides: RedisClientOverrides = {}): RedisConnection {
  const target = parseRedisTarget(url);
  const { shardedSubscribers = false, ...nodeOverrides } = overrides;
  const common: RedisOptions = { connectionName: `sio-gateway:${role}:${process.pid}`, ...nodeOverrides };
  if (target?.kind === "sentinel") {
    return new Redis({
      ...common,
      sentinels: target.sentinels,
      name: target.name,
      username: target.username,
      password: target.password,
      sentinelPassword: target.password,
      // ioredis: `sentinelTLS` for the sentinels, `tls` + `enableTLSForSentinelMode` for the primary they name.
      ...(target.tls ? { sentinelTLS: {}, tls: {}, enableTLSForSentinelMode: true } : {}),
    });
  }
  if (target?.kind === "cluster") {
    const options: ClusterOptions = {
      // The cluster queues (or refuses) commands while it has no slot map; the node connections
      // below it must not refuse on their own, or the first command to a fresh node would fail.
      enableOfflineQueue: overrides.enableOfflineQueue ?? true,
      shardedSubscribers,
      redisOptions: {
        connectionName: common.connectionName,
        maxRetriesPerRequest: common.maxRetriesPerRequest,
        username: target.username,
        password: target.password,
        ...(target.tls ? { tls: {} } : {}),
      },
    };
    return new Cluster(target.nodes, options);
  }
  return new Redis(url, common);
}
