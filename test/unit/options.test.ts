import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { gatewayErrorMessage } from "../helpers/errors.js";
import { optionsFromEnv, resolveOptions } from "../../gateway/options.js";

function rejection(input: Record<string, unknown>): string {
  return gatewayErrorMessage(() => resolveOptions(input));
}

describe("resolveOptions", () => {
  it("applies the contract's defaults", () => {
    const options = resolveOptions({});
    assert.equal(options.port, 3000);
    assert.equal(options.host, "0.0.0.0");
    assert.ok(options.workers >= 1);
    assert.equal(options.redis, undefined);
    assert.equal(options.shutdownTimeout, 10_000);
    assert.equal(options.headerTimeout, 10_000);
    assert.equal(options.maxHeaderSize, 16_384);
    assert.equal(options.rateLimit, 50);
    assert.equal(options.maxConnsPerIp, 1000);
    assert.equal(options.logLevel, "info");
    assert.ok(Object.isFrozen(options));
  });

  it("parses strings from flags and env into typed values, keeping 0", () => {
    const options = resolveOptions({
      port: "0",
      workers: "3",
      rateLimit: "0",
      trustProxy: "10.0.0.0/8, 127.0.0.1",
      corsOrigin: "http://a.example,https://b.example:8443",
    });
    assert.equal(options.port, 0);
    assert.equal(options.workers, 3);
    assert.equal(options.rateLimit, 0);
    assert.deepEqual(options.trustProxy, ["10.0.0.0/8", "127.0.0.1"]);
    assert.deepEqual(options.corsOrigin, ["http://a.example", "https://b.example:8443"]);
  });

  it("names the option, what it expects and what it got", () => {
    assert.equal(rejection({ workers: "-1" }), 'invalid option "workers": expected a positive integer, got "-1"');
    assert.equal(rejection({ port: "70000" }), 'invalid option "port": expected a port number from 0 to 65535, got "70000"');
    assert.equal(
      rejection({ redis: "http://x" }),
      'invalid option "redis": expected a redis://, rediss://, redis-sentinel://host:port[,host:port]/master-name or redis-cluster://host:port[,host:port] URL, got "http://x"',
    );
    assert.match(rejection({ trustProxy: "10.0.0.0/33" }), /^invalid option "trust-proxy": expected comma-separated IPs or CIDRs, got "10.0.0.0\/33"$/);
    assert.match(rejection({ logLevel: "loud" }), /^invalid option "log-level": expected one of fatal, error/);
    assert.match(rejection({ app: "/nonexistent/app.js" }), /^invalid option "app": expected a path to an existing app module/);
    assert.match(rejection({ shutdownTimeout: "soon" }), /^invalid option "shutdown-timeout"/);
    assert.match(rejection({ workers: "2", workerPortBase: "65535" }), /^invalid option "worker-port-base"/);
  });

  it("accepts redis:// and rediss:// URLs with credentials and a database", () => {
    assert.equal(resolveOptions({ redis: "rediss://user:secret@cache.internal:6380/2" }).redis, "rediss://user:secret@cache.internal:6380/2");
  });
});

describe("optionsFromEnv", () => {
  it("reads the contract's environment variables", () => {
    const raw = optionsFromEnv({ PORT: "4000", WORKERS: "2", REDIS_URL: "redis://127.0.0.1:1", TRUST_PROXY: "127.0.0.1", LOG_LEVEL: "warn", UNRELATED: "x" });
    assert.deepEqual(raw, { port: "4000", workers: "2", redis: "redis://127.0.0.1:1", trustProxy: "127.0.0.1", logLevel: "warn" });
  });
});
