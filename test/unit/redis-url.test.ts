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
      sentinels: [{ host: "10.0.0.1", port: 26379 }, { host: "10.0.0.2", port: 26379 }, { host: "::1", port: 26380 }],
      name: "mymaster",
      username: undefined,
      password: "s3cret",
      tls: false,
    });
    assert.equal((parseRedisTarget("rediss-sentinel://a:1/m") as { tls: boolean }).tls, true);
  });

  it("refuses anything else", () => {
    for (const bad of ["http://x", "redis-sentinel://a:1", "redis-sentinel://a/m", "redis-sentinel://a:99999/m", "redis://", "nonsense"]) {
      assert.equal(parseRedisTarget(bad), undefined, bad);
    }
  });

  it("describes a target without its password", () => {
    assert.equal(describeRedisTarget("redis-sentinel://:s3cret@h:1,i:2/m"), "redis-sentinel://h:1,i:2/m");
    assert.equal(describeRedisTarget("redis://:s3cret@h:7000"), "redis://h:7000");
  });
});
