import type { Logger } from "pino";
import { batchWebSocketWrites } from "./batched-writes.js";
import { ClusterGatewayAdapter } from "./cluster.js";
import { mergePreEncodedFrames } from "./merged-frames.js";
import { RecoveryGatewayAdapter, type RecoveryBounds } from "./recovery/index.js";
import { RedisGatewayAdapter } from "./redis.js";
import type { GatewayAdapter } from "./types.js";

export type { AdapterKind, GatewayAdapter, GatewayAdapterEvents, RedisTopology } from "./types.js";
export type { RecoveryBounds } from "./recovery/index.js";
export { setupClusterAdapterPrimary } from "./cluster.js";

/**
 * The adapter a worker uses: with connection-state recovery, the recovering adapter over an
 * ordered log (Redis Streams, or the primary); otherwise Redis pub/sub when a URL is given, the
 * primary over IPC when not. Every worker creates one, so this is also where its broadcasts'
 * WebSocket writes get batched (adapter/batched-writes.ts) and their frames joined
 * (adapter/merged-frames.ts).
 */
export function createGatewayAdapter(redisUrl: string | undefined, logger: Logger, recovery?: RecoveryBounds): GatewayAdapter {
  if (!batchWebSocketWrites()) logger.warn("engine.io's WebSocket transport not found: WebSocket writes are not batched");
  if (!mergePreEncodedFrames()) logger.warn("socket.io-adapter's _encode not found: broadcast frames are not joined");
  if (recovery) return new RecoveryGatewayAdapter(redisUrl, recovery, logger);
  return redisUrl ? new RedisGatewayAdapter(redisUrl, logger) : new ClusterGatewayAdapter();
}
