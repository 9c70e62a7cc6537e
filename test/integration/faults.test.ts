/**
 * Faults: a crash loop backs off; Redis going away and coming back; a rolling restart (SIGHUP)
 * never drops everyone at once; SIGTERM behind nginx moves clients to the other node.
 */
import assert from "node:assert/strict";
import { rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { chatUntilItCrosses } from "../helpers/chat-run.js";
import { clientsPerWorker, connectClient, request, type Hello, type TestClient } from "../helpers/clients.js";
import { httpRequest } from "../helpers/engine-raw.js";
import { PUBSUB_DEMO_APP } from "../helpers/fixtures.js";
import { GatewayProcess } from "../helpers/gateway-process.js";
import { Inbox } from "../helpers/inbox.js";
import { NginxServer } from "../helpers/nginx-server.js";
import { RedisServer } from "../helpers/redis-server.js";
import { waitFor, waitUntil } from "../helpers/wait.js";

const CRASH_APP = fileURLToPath(new URL("../fixtures/crash-app.mjs", import.meta.url));

async function readyz(port: number): Promise<number> {
  return (await httpRequest(port, "GET", "/readyz")).status;
}

interface OutageParts {
  gateway: GatewayProcess;
  /** On one worker, in room "blip". */
  a: TestClient;
  /** What the client on the other worker, also in "blip", received. */
  inboxB: Inbox;
}

/**
 * A gateway of 2 workers on a Redis of its own (`args` added), a client on each worker in room
 * "blip"; Redis stops (/readyz 503), `during` runs; Redis comes back (/readyz 200), `after` runs;
 * no worker may have exited. Everything it started is stopped, and the gateway must exit 0.
 */
async function throughRedisOutage(
  args: string[],
  steps: { during(parts: OutageParts): Promise<void>; after(parts: OutageParts): Promise<void> },
): Promise<void> {
  const redis = await RedisServer.start();
  const gateway = await GatewayProcess.start(["--workers", "2", "--redis", redis.url, ...args]);
  const [a, b] = await clientsPerWorker(gateway.url, 2, 1);
  const pids = gateway.workerPids();
  try {
    for (const client of [a, b]) await request(client.socket, "join", "blip");
    const parts = { gateway, a, inboxB: new Inbox(b.socket) };
    await redis.stop();
    await waitUntil(async () => (await readyz(gateway.port)) === 503, "/readyz answers 503 during the outage");
    await steps.during(parts);
    await redis.startProcess();
    await waitUntil(async () => (await readyz(gateway.port)) === 200, "/readyz answers 200 after Redis is back", 15_000);
    await steps.after(parts);
    assert.deepEqual(gateway.workerPids(), pids, "no worker may exit over a Redis outage");
  } finally {
    a?.close();
    b?.close();
    const result = await gateway.stop();
    await redis.stop();
    assert.equal(result.code, 0, result.stderr);
  }
}

describe("faults", () => {
  it("backs off a crash loop instead of spinning, while the other worker keeps serving", async () => {
    const marker = join(tmpdir(), `sio-crash-${process.pid}`);
    const gateway = await GatewayProcess.start(["--workers", "2", "--app", CRASH_APP], { CRASH_MARKER: marker });
    const [healthy, doomed] = (await clientsPerWorker(gateway.url, 2, 1, { reconnection: false })).sort((a, b) => a.hello.worker - b.hello.worker);
    try {
      writeFileSync(marker, "crash");
      process.kill(doomed.hello.pid, "SIGKILL");
      // The back-off doubles per consecutive crash: wait until it reached 1.6 s.
      await waitUntil(() => /"respawnInMs":1600/.test(gateway.stderr), "the back-off reached 1600 ms", 15_000);
      const delays = [...gateway.stderr.matchAll(/"slot":1,[^\n]*"respawnInMs":(\d+)/g)].map((match) => Number(match[1]));
      assert.deepEqual(delays.slice(0, 5), [100, 200, 400, 800, 1600]);
      // whoami stays on the worker (a join would ask every worker for member counts, and the dead one cannot answer).
      assert.equal((await request<{ worker: number }>(healthy.socket, "whoami")).worker, 0);
      assert.equal(gateway.child.exitCode, null, "the primary must keep running");
    } finally {
      healthy.close();
      doomed.close();
      rmSync(marker, { force: true });
      assert.equal((await gateway.stop()).code, 0);
    }
  });

  it("survives Redis going away (pub/sub): /readyz 503, failed publishes counted and logged, broadcasts work again after", async () => {
    await throughRedisOutage(["--app", PUBSUB_DEMO_APP], {
      async during({ a, gateway }) {
        assert.deepEqual(await request(a.socket, "chat", { room: "blip", text: "into the void" }), { ok: true });
        await waitUntil(() => /redis publish failed/.test(gateway.stderr), "the failed publish is logged", 10_000);
        const metrics = (await httpRequest(gateway.port, "GET", "/metrics")).body.toString();
        assert.ok(Number(/^sio_gateway_adapter_publish_failures_total (\d+)/m.exec(metrics)?.[1]) >= 1, "the failed publish is counted");
      },
      async after({ a, inboxB }) {
        // The subscriber resubscribes on its own; no event reaches the test when it has, so retry until a chat crosses.
        await chatUntilItCrosses(a.socket, inboxB, "blip", "a chat crosses workers again", 15_000, 200);
      },
    });
  });

  it("rolling restart on SIGHUP: every worker replaced, one at a time, never all clients down", async () => {
    const gateway = await GatewayProcess.start(["--workers", "2"]);
    const clients = await clientsPerWorker(gateway.url, 2, 2);
    const before = gateway.workerPids();
    try {
      let connected = clients.length;
      let lowest = connected;
      const rehellos = clients.map((client) => {
        client.socket.on("disconnect", () => (lowest = Math.min(lowest, --connected)));
        client.socket.on("connect", () => connected++);
        return waitFor<[Hello]>(client.socket, "hello", 20_000);
      });
      gateway.child.kill("SIGHUP");
      const hellos = (await Promise.all(rehellos)).map(([hello]) => hello);
      for (const [index, hello] of hellos.entries()) {
        assert.equal(hello.worker, clients[index].hello.worker, "a client comes back to its slot");
        assert.ok(!before.includes(hello.pid), "served by a new process");
      }
      assert.ok(lowest >= 2, `at some moment only ${lowest} of ${clients.length} clients were connected`);
      await waitUntil(() => gateway.workerPids().every((pid) => !before.includes(pid)), "the old workers are gone");
      assert.equal(gateway.workerPids().length, 2);
      assert.deepEqual(await request(clients[0].socket, "join", "after-reload").then((answer) => (answer as { ok: boolean }).ok), true);
    } finally {
      for (const client of clients) client.close();
      assert.equal((await gateway.stop()).code, 0);
    }
  });

  it("survives Redis going away (connection-state recovery): chats are refused, not acknowledged, until Redis is back", async () => {
    await throughRedisOutage([], {
      async during({ a, gateway }) {
        // Nothing can be ordered into the log: the sender is told, instead of an ok for a message nobody will get.
        const refused = await request<{ ok: boolean; error: string }>(a.socket, "chat", { room: "blip", text: "into the void" });
        assert.equal(refused.ok, false);
        assert.match(refused.error, /^not sent: .*recovery log/);
        const metrics = (await httpRequest(gateway.port, "GET", "/metrics")).body.toString();
        assert.ok(Number(/^sio_gateway_adapter_publish_failures_total (\d+)/m.exec(metrics)?.[1]) >= 1, "the failed append is counted");
      },
      async after({ a, inboxB }) {
        // /readyz asked one worker; a's may take a moment longer to reconnect its log connections.
        await waitUntil(
          async () => (await request<{ ok: boolean }>(a.socket, "chat", { room: "blip", text: "back" })).ok,
          "a chat is acknowledged again",
          15_000,
          200,
        );
        await inboxB.waitFor("chat");
        assert.ok(!inboxB.of("chat").some(([message]) => (message as { text: string }).text === "into the void"), "a refused chat is never delivered");
      },
    });
  });

  it("SIGTERM on one of two nodes behind nginx: it exits 0, its clients reconnect to the other node", async () => {
    const redis = await RedisServer.start();
    const nodes = [
      await GatewayProcess.start(["--workers", "2", "--redis", redis.url, "--trust-proxy", "127.0.0.1", "--shutdown-timeout", "5000"]),
      await GatewayProcess.start(["--workers", "2", "--redis", redis.url, "--trust-proxy", "127.0.0.1", "--shutdown-timeout", "5000"]),
    ];
    const nginx = await NginxServer.start({ upstreams: nodes.map((node) => `127.0.0.1:${node.port}`) });
    const pidsOf = nodes.map((node) => node.workerPids());
    const clients: TestClient[] = [];
    try {
      // Every other client stays on long-polling: each of its requests names its session and goes through nginx on its own.
      const pollingOnly = (k: number): boolean => k % 2 === 0;
      for (let k = 0; k < 8; k++)
        clients.push(await connectClient(nginx.url, { localAddress: `127.0.${10 + k}.1`, transports: pollingOnly(k) ? ["polling"] : undefined }));
      const onFirst = clients.filter((client) => pidsOf[0].includes(client.hello.pid));
      assert.ok(onFirst.length > 0 && onFirst.length < clients.length, "clients must be on both nodes");
      assert.ok(
        onFirst.some((client) => pollingOnly(clients.indexOf(client))),
        "a long-polling client on the node that stops",
      );
      const rehellos = onFirst.map((client) => waitFor<[Hello]>(client.socket, "hello", 20_000));
      const result = await nodes[0].stop("SIGTERM");
      assert.equal(result.code, 0, result.stderr);
      for (const [hello] of await Promise.all(rehellos)) assert.ok(pidsOf[1].includes(hello.pid), "a drained client must land on the other node");
      // Their session's requests keep reaching the other node while theirs is down (nginx skips it per request).
      for (const client of onFirst) assert.ok(pidsOf[1].includes((await request<{ pid: number }>(client.socket, "whoami")).pid));
    } finally {
      for (const client of clients) client.close();
      await nginx.stop();
      for (const node of nodes) await node.stop();
      await redis.stop();
    }
  });
});
