import { Redis, type RedisOptions } from "ioredis";
import { parseRedisTarget } from "./redis-url.js";

/**
 * The one way sio-gateway opens a Redis connection, so the gateway (`--redis`), the emitter
 * module and `sio-gateway emit` accept the same forms (adapter/redis-url.ts): one server, or a
 * Sentinel-managed primary that ioredis follows through fail-overs. ioredis reconnects on its
 * own with back-off.
 */
export function createRedisClient(url: string, role: string, overrides: RedisOptions = {}): Redis {
  const target = parseRedisTarget(url);
  const common: RedisOptions = { connectionName: `sio-gateway:${role}:${process.pid}`, ...overrides };
  if (target?.kind === "sentinel") {
    return new Redis({
      ...common,
      sentinels: target.sentinels,
      name: target.name,
      username: target.username,
      password: target.password,
      sentinelPassword: target.password,
      ...(target.tls ? { tls: {}, enableTLSForSentinelMode: true } : {}),
    });
  }
  return new Redis(url, common);
}
