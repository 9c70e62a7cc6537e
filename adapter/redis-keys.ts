/**
 * The one place that names what the gateway's Redis adapter and the emitters share on the wire.
 * `socket.io` is the default of both `@socket.io/redis-adapter` and `@socket.io/redis-emitter`,
 * so the stock emitter interoperates with the gateway.
 */
export const REDIS_KEY_PREFIX = "socket.io";

/** A namespace's broadcast channel (`socket.io#/#`), in both the classic and the sharded format. */
export function broadcastChannel(namespace: string, prefix = REDIS_KEY_PREFIX): string {
  return `${prefix}#${namespace}#`;
}

/**
 * How the sharded adapter spreads channels over the Cluster's shards: `dynamic` gives every
 * public room a channel of its own (`socket.io#/#room#`), so a room's messages go to the shard
 * that owns that channel's slot and only to the processes that have members in the room. The
 * emitter computes the same channels (adapter/sharded-wire.ts).
 */
export const SHARDED_SUBSCRIPTION_MODE = "dynamic";
