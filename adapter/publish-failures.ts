import type { RedisConnection } from "./redis-client.js";

/**
 * The adapters publish and drop the promise they get back (the classic adapter calls
 * `publish()` and ignores it; the sharded one catches and only debug-logs), so a publish that
 * fails during a Redis outage would be an unhandled rejection or silent. The adapter is given
 * this wrapper of the connection instead of the connection itself: a Proxy that answers
 * `publish`/`spublish` with a version that reports the failure and resolves 0, and forwards
 * everything else unchanged. The ioredis client itself is left untouched.
 */
export function reportingPublishFailures(client: RedisConnection, onFailure: (channel: string, error: Error) => void): RedisConnection {
  const wrapped = new Map<PropertyKey, unknown>();
  for (const command of ["publish", "spublish"] as const) {
    const publish = client[command].bind(client) as (channel: string, message: string | Buffer) => Promise<number>;
    wrapped.set(command, (channel: string, message: string | Buffer) =>
      publish(channel, message).catch((error: Error) => {
        onFailure(channel, error);
        return 0;
      }),
    );
  }
  return new Proxy(client, {
    get: (target, property, receiver): unknown => (wrapped.has(property) ? wrapped.get(property) : Reflect.get(target, property, receiver)),
  });
}
