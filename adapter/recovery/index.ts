import { EventEmitter } from "node:events";
import type { Logger } from "pino";
import type { Namespace } from "socket.io";
import type { Adapter } from "socket.io-adapter";
import type { GatewayAdapter, GatewayAdapterEvents, RedisTopology } from "../types.js";
import { IpcOrderedLog } from "./ipc-log.js";
import type { OrderedLog, RecoveryBounds } from "./ordered-log.js";
import { RecoveringAdapter } from "./recovering-adapter.js";
import { RecoveryHub } from "./recovery-hub.js";
import { RedisOrderedLog } from "./redis-log.js";
import { parseRedisTarget } from "../redis-url.js";

export type { RecoveryBounds } from "./ordered-log.js";

/**
 * The worker's adapter when the app turns on `connectionStateRecovery`: the recovering adapter
 * (recovering-adapter.ts) over the Redis Streams log with `--redis`, or over the primary's log
 * (IPC) without. Redis Cluster is refused before this is built (gateway/worker/recovery-options.ts).
 */
export class RecoveryGatewayAdapter extends EventEmitter<GatewayAdapterEvents> implements GatewayAdapter {
  readonly kind: "redis" | "cluster";
  private readonly hub: RecoveryHub;
  private readonly redisLog: RedisOrderedLog | undefined;
  private readonly mode: RedisTopology["mode"];

  constructor(redisUrl: string | undefined, bounds: RecoveryBounds, logger: Logger) {
    super();
    this.kind = redisUrl ? "redis" : "cluster";
    this.mode = (redisUrl && parseRedisTarget(redisUrl)?.kind) || "single";
    this.redisLog = redisUrl ? new RedisOrderedLog(redisUrl, bounds, logger) : undefined;
    const log: OrderedLog = this.redisLog ?? new IpcOrderedLog(bounds);
    this.redisLog?.on("up", () => this.emit("up"));
    this.redisLog?.on("down", (reason: string) => this.emit("down", reason));
    const hub = (this.hub = new RecoveryHub(log, bounds, logger));
    const onAppendFailed = (error: Error): void => void this.emit("publish-failed", "recovery-log", error);
    this.factory = function recoveringAdapter(nsp: Namespace): Adapter {
      const adapter = new RecoveringAdapter(nsp, hub);
      adapter.on("append-failed", onAppendFailed);
      return adapter;
    };
  }

  /** For `io.adapter()`: Socket.IO calls it with `new`, so a function, not an arrow. */
  readonly factory: (nsp: Namespace) => Adapter;

  isConnected(): boolean {
    return this.hub.log.isConnected();
  }

  whenConnected(): Promise<void> {
    return this.hub.log.whenConnected();
  }

  topology(): RedisTopology | undefined {
    return this.redisLog ? { mode: this.mode, pubsub: "log" } : undefined;
  }

  whenPublished(emit: () => unknown): Promise<void> {
    return this.hub.whenPublished(emit);
  }

  close(): Promise<void> {
    return this.hub.close();
  }
}
