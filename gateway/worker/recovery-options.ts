import type { ServerOptions } from "socket.io";
import type { RecoveryBounds } from "../../adapter/index.js";

/** Socket.IO's own default for `connectionStateRecovery.maxDisconnectionDuration`: 2 minutes. */
const DEFAULT_MAX_DISCONNECTION_DURATION = 2 * 60 * 1000;
/**
 * At most this many log entries are kept, whatever their age (the memory bound: in the primary's
 * memory, or the Redis stream's length). At a chat's 50 broadcasts/s that is over half an hour.
 */
export const MAX_LOG_ENTRIES = 100_000;

/**
 * The recovery log's bounds when the app turns on `connectionStateRecovery`; undefined when it
 * does not. On a Redis Cluster the log is one stream, so it lives on one shard (docs/redis.md).
 */
export function recoveryBounds(options: Partial<ServerOptions>): RecoveryBounds | undefined {
  const recovery = options.connectionStateRecovery;
  if (!recovery) return undefined;
  return { maxDisconnectionDuration: recovery.maxDisconnectionDuration ?? DEFAULT_MAX_DISCONNECTION_DURATION, maxEntries: MAX_LOG_ENTRIES };
}
