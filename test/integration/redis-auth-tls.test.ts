/**
 * Passwords and TLS in every `--redis` form: one server (`rediss://:pw@…`), a Sentinel set
 * (`rediss-sentinel://:pw@…/mymaster`) and a Redis Cluster (`rediss-cluster://:pw@…`), each with
 * TLS only and a throwaway certificate that is its own CA. The gateway and `sio-gateway emit`
 * trust it the way a deployment trusts a private CA: NODE_EXTRA_CA_CERTS.
 */
import assert from "node:assert/strict";
import type { ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { clientsPerWorker, request } from "../helpers/clients.js";
import { GatewayProcess, runCli } from "../helpers/gateway-process.js";
import { Inbox } from "../helpers/inbox.js";
import { freePort } from "../helpers/ports.js";
import { stopChild } from "../helpers/processes.js";
import { RedisClusterSet } from "../helpers/redis-cluster.js";
import { EPHEMERAL_REDIS_ARGS, startRedisProcess, tlsOnlyArgs } from "../helpers/redis-process.js";
import { RedisSentinelSet } from "../helpers/redis-sentinel-set.js";
import { makeTestCertificate } from "../helpers/tls-cert.js";

const PASSWORD = "s3cret pw";

/**
 * The gateway (2 workers) connects and shares a room across its workers, `sio-gateway emit`
 * reaches both, and a wrong password is refused with a clear one-line error that does not echo it.
 */
async function exercise(url: string, wrongUrl: string, ca: string, mode: string): Promise<void> {
  const trust = { NODE_EXTRA_CA_CERTS: ca };
  const gateway = await GatewayProcess.start(["--workers", "2", "--redis", url], trust);
  const clients = await clientsPerWorker(gateway.url, 2, 1, { transports: ["websocket"] });
  try {
    const readyz = await fetch(`${gateway.url}/readyz`);
    assert.equal(readyz.status, 200);
    assert.equal(((await readyz.json()) as { redis: { mode: string } }).redis.mode, mode);
    for (const client of clients) await request(client.socket, "join", "secure");
    const [a, b] = clients.sort((x, y) => x.hello.worker - y.hello.worker);
    const inboxB = new Inbox(b.socket);
    await request(a.socket, "chat", { room: "secure", text: "over tls" });
    await inboxB.waitFor("chat");

    const emitted = await runCli(["emit", "--redis", url, "--to", "secure", "tls-news", '"hi"'], trust);
    assert.equal(emitted.stdout, 'delivered "tls-news" to 2 gateway processes\n', emitted.stderr);
    await inboxB.waitFor("tls-news");

    const refused = await runCli(["emit", "--redis", wrongUrl, "--timeout", "2000", "--to", "secure", "x"], trust);
    assert.equal(refused.code, 1, "a Redis that refuses the password is a runtime failure: exit 1");
    assert.match(refused.stderr, /^sio-gateway: Redis at rediss[-a-z]*:\/\/127\.0\.0\.1:\d+.* is unavailable: .*(WRONGPASS|invalid username-password|NOAUTH)/);
    assert.doesNotMatch(refused.stderr, /wrong-password/);
  } finally {
    for (const client of clients) client.close();
    const result = await gateway.stop();
    assert.equal(result.code, 0, result.stderr);
  }
}

describe("Redis with a password, over TLS, in every form", () => {
  it("one server: rediss://:password@host:port", async () => {
    const dir = mkdtempSync(join(tmpdir(), "sio-redis-tls-"));
    const certificate = makeTestCertificate(dir);
    const port = await freePort();
    let server: ChildProcess | undefined;
    try {
      server = await startRedisProcess([...tlsOnlyArgs(port, certificate), ...EPHEMERAL_REDIS_ARGS, "--requirepass", PASSWORD]);
      const url = (password: string) => `rediss://:${encodeURIComponent(password)}@127.0.0.1:${port}`;
      await exercise(url(PASSWORD), url("wrong-password"), certificate.cert, "single");
    } finally {
      if (server) await stopChild(server, "SIGKILL");
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("a Sentinel set: rediss-sentinel://:password@sentinels/mymaster (servers and sentinels on TLS)", async () => {
    const set = await RedisSentinelSet.start({ password: PASSWORD, tls: true });
    try {
      const wrong = set.url().replace(`:${encodeURIComponent(PASSWORD)}@`, ":wrong-password@");
      await exercise(set.url(), wrong, set.certificate!.cert, "sentinel");
    } finally {
      await set.stop();
    }
  });

  it("a Redis Cluster: rediss-cluster://:password@seeds (clients, replication and cluster bus on TLS)", async () => {
    const set = await RedisClusterSet.start({ primaries: 3, password: PASSWORD, tls: true });
    try {
      await exercise(set.url(), set.url("", "wrong-password"), set.certificate!.cert, "cluster");
    } finally {
      await set.stop();
    }
  });
});
