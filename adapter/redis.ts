import { EventEmitter } from "node:events";
import { createAdapter, createShardedAdapter } from "@socket.io/redis-adapter";
import type { Cluster } from "ioredis";
import type { Logger } from "pino";
import type { Namespace } from "socket.io";
import type { Adapter } from "socket.io-adapter";
import { ClusterHealth } from "./cluster-health.js";
import { isCluster, resolvePubSubMode, type PubSubMode } from "./pubsub-mode.js";
import { reportingPublishFailures } from "./publish-failures.js";
import { createRedisClient, describeRedisError, type RedisConnection } from "./redis-client.js";
import { REDIS_KEY_PREFIX, SHARDED_SUBSCRIPTION_MODE } from "./redis-keys.js";
import { parseRedisTarget, type PubSubChoice } from "./redis-url.js";
import type { GatewayAdapter, GatewayAdapterEvents, RedisTopology } from "./types.js";

/** Reconnection attempts a queued publish waits for before it fails (delays 50, 100, 150, 200 ms). */
const PUBLISH_RETRIES = 3;

type AdapterFactory = (nsp: Namespace) => Adapter;

/** A channel nobody publishes to, subscribed only to open a Cluster's subscriber connection. */
const SUBSCRIBER_OPENING_CHANNEL = `${REDIS_KEY_PREFIX}-gateway#open#`;

/**
 * Rooms and broadcasts shared through Redis: `@socket.io/redis-adapter` on two ioredis
 * connections (a subscribed connection cannot publish), to one server, a Sentinel set or a
 * Redis Cluster. On a Cluster whose primaries run Redis ≥ 7 it is the sharded adapter
 * (SPUBLISH/SSUBSCRIBE), decided once the first connection is up (adapter/pubsub-mode.ts), so
 * the subscriber connection is opened only then, with one connection per shard when sharded.
 *
 * ioredis reconnects by itself and queues commands while it does, so a short Redis outage
 * delays broadcasts instead of losing them; a publish that still fails is logged here and
 * reported ("publish-failed", counted in the metrics), because the adapter does not handle the
 * promise it gets back (it would be an unhandled rejection).
 */
export class RedisGatewayAdapter extends EventEmitter<GatewayAdapterEvents> implements GatewayAdapter {
  readonly kind = "redis" as const;
  private readonly pub: RedisConnection;
  private sub: RedisConnection | undefined;
  private pubsub: PubSubMode | undefined;
  private adapterFactory: AdapterFactory | undefined;
  private readonly health: ClusterHealth | undefined;
  private readonly mode: RedisTopology["mode"];
  private connected = false;
  /** Plain pub/sub on a Cluster: false until the cluster's subscriber connection is open (see openClusterSubscriber). */
  private subscriberOpen = true;
  private closed = false;

  constructor(
    url: string,
    private readonly logger: Logger,
  ) {
    super();
    const target = parseRedisTarget(url);
    this.mode = target?.kind ?? "single";
    // A publish waits through a short blip (ioredis queues it while it reconnects), but after
    // PUBLISH_RETRIES reconnection attempts (~0.5 s) it fails, and is counted and logged below,
    // rather than piling up for a Redis that may be gone for minutes.
    this.pub = createRedisClient(url, "pub", { maxRetriesPerRequest: PUBLISH_RETRIES });
    this.watch("pub", this.pub);
    this.health = isCluster(this.pub) ? new ClusterHealth(this.pub, () => this.updateState()) : undefined;
    this.pub.once("ready", () => this.decidePubSub(url, target?.kind === "cluster" ? target.pubsub : "auto"));
  }

  /**
   * Asks the servers which pub/sub to use, until they answer: guessing instead could put the
   * gateway on other channels than the emitters, which decide the same way (adapter/pubsub-mode.ts).
   */
  private decidePubSub(url: string, choice: PubSubChoice): void {
    resolvePubSubMode(this.pub, choice).then(
      (pubsub) => this.openSubscriber(url, pubsub),
      (error: Error) => {
        this.logger.warn({ err: error.message }, "could not read the Redis version; asking again in 1 s");
        setTimeout(() => this.closed || this.decidePubSub(url, choice), 1000).unref();
      },
    );
  }

  /** The factory for `io.adapter()`; exists once connected (the worker waits for that). */
  get factory(): AdapterFactory {
    if (!this.adapterFactory) throw new Error("the Redis adapter is not connected yet: await whenConnected() first");
    return this.adapterFactory;
  }

  private openSubscriber(url: string, pubsub: PubSubMode): void {
    if (this.closed) return;
    this.pubsub = pubsub;
    const sub = createRedisClient(url, "sub", { shardedSubscribers: pubsub === "sharded" });
    this.sub = sub;
    this.watch("sub", sub);
    const pub = reportingPublishFailures(this.pub, (channel, error) => {
      this.emit("publish-failed", channel, error);
      this.logger.warn({ channel, err: error.message }, "redis publish failed: message not delivered to other nodes");
    });
    this.adapterFactory =
      pubsub === "sharded"
        ? createShardedAdapter(pub, sub, { channelPrefix: REDIS_KEY_PREFIX, subscriptionMode: SHARDED_SUBSCRIPTION_MODE })
        : createAdapter(pub, sub, { key: REDIS_KEY_PREFIX });
    this.logger.info({ redis: this.mode, pubsub }, "redis pub/sub mode");
    if (isCluster(sub) && pubsub === "plain") this.openClusterSubscriber(sub);
    this.health?.start();
    this.updateState();
  }

  /**
   * ioredis' Cluster opens its one (P)SUBSCRIBE connection lazily, on the first subscription, and
   * runs a ready check (INFO) on it; a subscription sent while that check runs puts the
   * connection in subscriber mode, the check fails ("Connection in subscriber mode") and the
   * subscription is lost (1 run in 8 of the plain-mode cluster test). So one subscription of our
   * own opens it, and the adapter (which subscribes when namespaces are created, after
   * whenConnected) only comes once it is answered.
   */
  private openClusterSubscriber(sub: Cluster): void {
    this.subscriberOpen = false;
    sub.subscribe(SUBSCRIBER_OPENING_CHANNEL).then(
      () => {
        this.subscriberOpen = true;
        this.updateState();
      },
      (error: Error) => {
        this.logger.warn({ err: error.message }, "could not open the Redis Cluster subscriber connection; trying again in 1 s");
        setTimeout(() => this.closed || this.openClusterSubscriber(sub), 1000).unref();
      },
    );
  }

  private watch(role: "pub" | "sub", client: RedisConnection): void {
    // ioredis reports every failed reconnection attempt: a new reason (WRONGPASS, ECONNREFUSED…) is
    // a warning, its repetitions (which differ only in numbers: "retrying after 30ms") debug noise.
    let lastError = "";
    client.on("error", (error: Error) => {
      const message = describeRedisError(error);
      const reason = message.replace(/\d+/g, "#");
      this.logger[reason === lastError ? "debug" : "warn"]({ role, err: message }, "redis error");
      lastError = reason;
    });
    client.on("ready", () => {
      lastError = "";
      this.updateState();
    });
    client.on("close", () => this.updateState());
    client.on("end", () => this.updateState());
  }

  private updateState(): void {
    const clusterOk = this.health === undefined || this.health.current().state === "ok";
    const connected = !this.closed && this.pub.status === "ready" && this.sub?.status === "ready" && this.subscriberOpen && clusterOk;
    if (connected === this.connected) return;
    this.connected = connected;
    if (connected) {
      this.logger.info(this.topology(), "redis up");
      this.emit("up");
    } else {
      const reason = `pub ${this.pub.status}, sub ${this.sub?.status ?? "not opened"}${this.health ? `, cluster ${this.health.current().state}` : ""}`;
      if (!this.closed) this.logger.warn({ reason }, "redis down");
      this.emit("down", reason);
    }
  }

  isConnected(): boolean {
    return this.connected;
  }

  whenConnected(): Promise<void> {
    return this.connected ? Promise.resolve() : new Promise((resolve) => this.once("up", resolve));
  }

  whenPublished(emit: () => unknown): Promise<void> {
    emit();
    return Promise.resolve();
  }

  topology(): RedisTopology {
    return { mode: this.mode, pubsub: this.pubsub ?? "pending", ...(this.health ? { cluster: this.health.current() } : {}) };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.health?.stop();
    const clients = this.sub ? [this.pub, this.sub] : [this.pub];
    await Promise.allSettled(clients.map((client) => client.quit()));
    for (const client of clients) client.disconnect();
  }
}
