import { GatewayError } from "../../common/errors.js";
import type { EmitterRequest, EncodedRequest } from "./request.js";
import { appendToLog, gatewayReadsLog } from "./log-wire.js";
import { encodePlain } from "./plain-wire.js";
import { resolvePubSubMode, type PubSubMode } from "../pubsub-mode.js";
import { describeRedisError, type RedisConnection } from "../redis-client.js";
import type { PubSubChoice } from "../redis-url.js";
import { encodeSharded } from "./sharded-wire.js";
import { withTimeout } from "../with-timeout.js";

const ENCODERS: Record<PubSubMode, (request: EmitterRequest, prefix: string) => EncodedRequest> = { plain: encodePlain, sharded: encodeSharded };

/** How requests reach the gateway: a pub/sub mode, or the recovery log (adapter/emitter/log-wire.ts). */
type Route = PubSubMode | "log";

/**
 * The Redis connection behind an emitter (and the emitters `of()` derives from it): puts a
 * request on the wire the way the gateway's adapter listens (plain or sharded, decided once,
 * as the gateway decides it; or appended to the recovery log when a gateway in recovery mode
 * says so), and publishes it within a time limit. A call resolves with the number of
 * subscribers Redis delivered it to (log: gateway processes reading it), and rejects with
 * ERR_REDIS_UNAVAILABLE when Redis does not answer in time; nothing is kept for later.
 */
export class EmitterConnection {
  private route: Promise<Route> | undefined;

  constructor(
    readonly client: RedisConnection,
    /** True when the emitter opened the client (from a URL), so close() quits it. */
    readonly ownsClient: boolean,
    private readonly where: string,
    private readonly pubsub: PubSubChoice,
    private readonly prefix: string,
    private readonly timeout: number,
  ) {}

  async send(request: EmitterRequest): Promise<number> {
    const deadline = Date.now() + this.timeout;
    await this.whenReady(deadline);
    const mode = await this.decideRoute(deadline);
    try {
      if (mode === "log") return await this.within(deadline, appendToLog(this.client, request, this.prefix), "no answer to XADD");
      const { channel, payload } = ENCODERS[mode](request, this.prefix);
      // SPUBLISH answers the number of shard-channel subscribers, as PUBLISH does for its channel.
      const published = (mode === "sharded" ? this.client.spublish(channel, payload) : this.client.publish(channel, payload)) as Promise<number>;
      return await this.within(deadline, published, `no answer to ${mode === "sharded" ? "SPUBLISH" : "PUBLISH"}`);
    } catch (error) {
      // ioredis' own words ("Connection is closed.", "Stream isn't writeable…") become our one error.
      throw error instanceof GatewayError ? error : this.unavailable((error as Error).message);
    }
  }

  /** Decided on the first call (it needs a connection on a Cluster) and kept: every call of this emitter goes the same way. */
  private decideRoute(deadline: number): Promise<Route> {
    this.route ??= this.within(deadline, this.askRoute(), "no answer to GET/INFO").catch((error: Error) => {
      this.route = undefined; // ask again next time
      throw error instanceof GatewayError ? error : this.unavailable(error.message);
    });
    return this.route;
  }

  private async askRoute(): Promise<Route> {
    return (await gatewayReadsLog(this.client, this.prefix)) ? "log" : resolvePubSubMode(this.client, this.pubsub);
  }

  private within<T>(deadline: number, promise: Promise<T>, what: string): Promise<T> {
    return withTimeout(promise, Math.max(0, deadline - Date.now()), () => this.unavailable(`${what} within ${this.timeout} ms`));
  }

  /** Waits for the connection, at most until `deadline`: with the offline queue off, a command sent before would fail. */
  private whenReady(deadline: number): Promise<void> {
    if (this.client.status === "ready") return Promise.resolve();
    if (this.client.status === "end") return Promise.reject(this.unavailable("the emitter is closed"));
    return new Promise((resolve, reject) => {
      let lastError = "";
      const onError = (error: Error): void => {
        lastError = describeRedisError(error);
      };
      const onReady = (): void => {
        cleanup();
        resolve();
      };
      const timer = setTimeout(
        () => {
          cleanup();
          reject(this.unavailable(`no connection within ${this.timeout} ms${lastError ? `; last error: ${lastError}` : ""}`));
        },
        Math.max(0, deadline - Date.now()),
      );
      const cleanup = (): void => {
        clearTimeout(timer);
        this.client.off("ready", onReady);
        this.client.off("error", onError);
      };
      this.client.on("ready", onReady);
      this.client.on("error", onError);
    });
  }

  private unavailable(detail: string): GatewayError {
    return new GatewayError("ERR_REDIS_UNAVAILABLE", `Redis at ${this.where} is unavailable: ${detail}`);
  }

  async close(): Promise<void> {
    if (!this.ownsClient || this.client.status === "end") return;
    await this.client.quit().catch(() => this.client.disconnect());
  }
}
