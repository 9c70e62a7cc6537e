import type { RedisConnection } from "../redis-client.js";
import { LOG_TRANSPORT, logReadersKey, logStreamKey, messageFields, transportKey } from "../recovery/redis-log-wire.js";
import { clusterMessage } from "./sharded-wire.js";
import type { EmitterRequest } from "./request.js";

/**
 * Recovery mode: a gateway with connection-state recovery reads one Redis Stream instead of
 * pub/sub channels (adapter/recovery/redis-log.ts), and says so in `<prefix>-gateway#transport`.
 * Requests then go into that stream as the gateway's own adapters write them: the
 * ClusterAdapter message (adapter/emitter/sharded-wire.ts) in msgpack
 * (adapter/recovery/redis-log-wire.ts), so they get an offset and are replayed to recovering
 * clients like any broadcast. The stock @socket.io/redis-emitter only publishes, so it cannot
 * reach a gateway in this mode.
 */

/**
 * Whether a gateway on this Redis reads the log (asked once per emitter, as the pub/sub mode).
 * A Redis user whose ACL forbids reading the key (one made for PUBLISH only) cannot be in
 * recovery mode's path anyway: it publishes, as before.
 */
export async function gatewayReadsLog(client: RedisConnection, prefix: string): Promise<boolean> {
  try {
    return (await client.get(transportKey(prefix))) === LOG_TRANSPORT;
  } catch (error) {
    if ((error as Error).message.startsWith("NOPERM")) return false;
    throw error;
  }
}

/**
 * Appends the request; resolves with the number of gateway processes registered as reading
 * the log (each refreshes its registration every 20 s; a killed one still counts for up to a
 * minute), or 1 when that count cannot be read: the entry is in the stream either way.
 */
export async function appendToLog(client: RedisConnection, request: EmitterRequest, prefix: string): Promise<number> {
  // No MAXLEN here: the emitter does not know the gateway's bound; the gateway trims by size and age every 5 s.
  const [appended, readers] = await Promise.allSettled([
    client.xadd(logStreamKey(prefix), "*", ...messageFields(clusterMessage(request))),
    client.zcount(logReadersKey(prefix), Date.now(), "+inf"),
  ]);
  if (appended.status === "rejected") throw appended.reason;
  return readers.status === "fulfilled" ? readers.value : 1;
}
