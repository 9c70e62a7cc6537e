import type { Logger } from "pino";
import { ClusterGatewayAdapter } from "./cluster.js";
import { RedisGatewayAdapter } from "./redis.js";
import type { GatewayAdapter } from "./types.js";

export type { AdapterKind, GatewayAdapter, GatewayAdapterEvents, RedisTopology } from "./types.js";
export { setupClusterAdapterPrimary } from "./cluster.js";

/** The adapter a worker uses: Redis when a URL is given, the primary over IPC otherwise. */
export function createGatewayAdapter(redisUrl: string | undefined, logger: Logger): GatewayAdapter {
  return redisUrl ? new RedisGatewayAdapter(redisUrl, logger) : new ClusterGatewayAdapter();
}
