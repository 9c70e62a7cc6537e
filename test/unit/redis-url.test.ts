import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { describeRedisTarget, parseRedisTarget } from "../../adapter/redis-url.js";

describe("Redis URLs", () => {
  it("accepts one server over plain TCP or TLS", () => {
    assert.deepEqual(parseRedisTarget("redis://127.0.0.1:6379"), { kind: "single", url: "redis://127.0.0.1:6379" });
    assert.equal(parseRedisTarget("rediss://user:pw@cache.internal:6380/2")?.kind, "single");
  });

  it("accepts a Sentinel set with credentials, TLS and IPv6", () => {
    assert.deepEqual(parseRedisTarget("redis-sentinel://:s3cret@10.0.0.1:26379,10.0.0.2:26379,[::1]:26380/mymaster"), {
      kind: "sentinel",
      sentinels: [
        { host: "10.0.0.1", port: 26379 },
        { host: "10.0.0.2", port: 26379 },
        { host: "::1", port: 26380 },
      ],
      name: "mymaster",
      username: undefined,
      password: "s3cret",
      tls: false,
    });
    assert.equal((parseRedisTarget("rediss-sentinel://a:1/m") as { tls: boolean }).tls, true);
  });

  it("accepts a Cluster seed list with credentials, TLS and a pub/sub choice", () => {
    assert.deepEqual(parseRedisTarget("redis-cluster://app:p%40ss@10.0.0.1:7000,10.0.0.2:7001"), {
      kind: "cluster",
      nodes: [
        { host: "10.0.0.1", port: 7000 },
        { host: "10.0.0.2", port: 7001 },
      ],
      pubsub: "auto",
      username: "app",
      password: "p@ss",
      tls: false,
    });
    assert.deepEqual(parseRedisTarget("rediss-cluster://[::1]:7000/?pubsub=plain"), {
      kind: "cluster",
      nodes: [{ host: "::1", port: 7000 }],
      pubsub: "plain",
      username: undefined,
      password: undefined,
      tls: true,
    });
    assert.equal((parseRedisTarget("redis-cluster://a:1?pubsub=sharded") as { pubsub: string }).pubsub, "sharded");
  });

  it("refuses anything else", () => {
    const bad = ["http://x", "redis-sentinel://a:1", "redis-sentinel://a/m", "redis-sentinel://a:99999/m", "redis://", "nonsense"];
    bad.push("redis-cluster://a", "redis-cluster://a:1/m", "redis-cluster://a:1?pubsub=fast", "redis-cluster://a:1,", "redis-cluster://");
    for (const url of bad) {
      assert.equal(parseRedisTarget(url), undefined, url);
    }
  });

  it("describes a target without its password", () => {
    assert.equal(describeRedisTarget("redis-sentinel://:s3cret@h:1,i:2/m"), "redis-sentinel://h:1,i:2/m");
    assert.equal(describeRedisTarget("redis://:s3cret@h:7000"), "redis://h:7000");
    assert.equal(describeRedisTarget("rediss-cluster://u:s3cret@h:1,i:2?pubsub=plain"), "rediss-cluster://h:1,i:2");
  });
});
