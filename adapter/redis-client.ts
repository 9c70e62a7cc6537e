import { Redis, type RedisOptions } from "ioredis";

/**
 * The one way sio-gateway opens a Redis connection, so the gateway (`--redis`), the emitter
 * module and `sio-gateway emit` accept the same URL forms: `redis://[user:pass@]host[:port][/db]`
 * and `rediss://…` (TLS). ioredis reconnects on its own with back-off.
 */
export function createRedisClient(url: string, role: string, overrides: RedisOptions = {}): Redis {
  return new Redis(url, { connectionName: `sio-gateway:${role}:${process.pid}`, ...overrides });
}

/** `host:port` of a Redis URL, for messages (never the password). */
export function describeRedisUrl(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.protocol}//${parsed.hostname}:${parsed.port || "6379"}`;
  } catch {
    return "(invalid Redis URL)";
  }
}
