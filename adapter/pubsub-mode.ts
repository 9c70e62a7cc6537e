import type { Cluster } from "ioredis";
import type { RedisConnection } from "./redis-client.js";
import type { PubSubChoice } from "./redis-url.js";

/**
 * How broadcasts travel through Redis. `plain`: PUBLISH/SUBSCRIBE, which on a Cluster every
 * node relays to every other node over the cluster bus. `sharded`: SPUBLISH/SSUBSCRIBE
 * (Redis ≥ 7), where a channel lives on the shard that owns its hash slot, so the message rate
 * spreads over the primaries. One server and Sentinel always use plain pub/sub.
 */
export type PubSubMode = "plain" | "sharded";

export function isCluster(client: RedisConnection): client is Cluster {
  return (client as Cluster).isCluster === true;
}

/** The major version in an `INFO server` reply, or 0 when it names none. */
export function redisMajorVersion(info: string): number {
  return Number(/^redis_version:(\d+)\./m.exec(info)?.[1] ?? 0);
}

/**
 * The mode to use on a connected client: `auto` is sharded when every primary of the Cluster
 * runs Redis ≥ 7 (the gateway and the emitter decide the same way, so they always meet on the
 * same channels).
 */
export async function resolvePubSubMode(client: RedisConnection, choice: PubSubChoice): Promise<PubSubMode> {
  if (!isCluster(client)) return "plain";
  if (choice !== "auto") return choice;
  const primaries = client.nodes("master");
  const infos = await Promise.all(primaries.map((node) => node.info("server")));
  return infos.length > 0 && infos.every((info) => redisMajorVersion(info) >= 7) ? "sharded" : "plain";
}
