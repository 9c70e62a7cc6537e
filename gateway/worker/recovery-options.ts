import type { ServerOptions } from "socket.io";
import type { RecoveryBounds } from "../../adapter/index.js";
import { parseRedisTarget } from "../../adapter/redis-url.js";
import { GatewayError } from "../../common/errors.js";

/** Socket.IO's own default for `connectionStateRecovery.maxDisconnectionDuration`: 2 minutes. */
const DEFAULT_MAX_DISCONNECTION_DURATION = 2 * 60 * 1000;
/**
 * At most this many log entries are kept, whatever their age (the memory bound: in the primary's
 * memory, or the Redis stream's length). At a chat's 50 broadcasts/s that is over half an hour.
 */
export const MAX_LOG_ENTRIES = 100_000;

/**
 * The recovery log's bounds when the app turns on `connectionStateRecovery`; undefined when it
 * does not. A Redis Cluster is refused for now: the log is one Redis Stream, and keeping it on
 * one shard while the sessions spread over all of them is not built (or tested) yet.
 */
export function recoveryBounds(options: Partial<ServerOptions>, redisUrl: string | undefined): RecoveryBounds | undefined {
  const recovery = options.connectionStateRecovery;
  if (!recovery) return undefined;
  if (redisUrl && parseRedisTarget(redisUrl)?.kind === "cluster") {
    throw new GatewayError(
      "ERR_INVALID_OPTION",
      'invalid option "options.connectionStateRecovery": not supported with a Redis Cluster yet; use one Redis server or a Sentinel set, or turn recovery off',
    );
  }
  return { maxDisconnectionDuration: recovery.maxDisconnectionDuration ?? DEFAULT_MAX_DISCONNECTION_DURATION, maxEntries: MAX_LOG_ENTRIES };
}
