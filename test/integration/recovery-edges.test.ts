/**
 * Connection-state recovery at its edges: a whole node stopped behind the generated nginx, a
 * Redis Sentinel fail-over during chat, a client away longer than `maxDisconnectionDuration`,
 * and forged or malformed session ids and offsets (a fresh session, never someone else's).
 */
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { after, before, describe, it } from "node:test";
import { ChatRun } from "../helpers/chat-run.js";
import { connectClient, loopbackAddress, request, type TestClient } from "../helpers/clients.js";
import { GatewayProcess } from "../helpers/gateway-process.js";
import { NginxServer } from "../helpers/nginx-server.js";
import { RedisSentinelSet } from "../helpers/redis-sentinel-set.js";
import { RedisServer } from "../helpers/redis-server.js";
import { waitFor, waitUntil } from "../helpers/wait.js";

const ROOM = "edge-room";
const SHORT_RECOVERY_APP = fileURLToPath(new URL("../fixtures/short-recovery-app.mjs", import.meta.url));

async function joinAll(clients: TestClient[]): Promise<void> {
  for (const client of clients) assert.equal((await request<{ ok: boolean }>(client.socket, "join", ROOM)).ok, true);
}

/** Private fields of socket.io-client's Socket that carry the session on reconnection. */
interface SessionFields {
  _pid?: string;
  _lastOffset?: string;
}

describe("connection-state recovery, edges", () => {
  let redis: RedisServer;
  before(async () => {
    redis = await RedisServer.start();
  });
  after(async () => {
    await redis.stop();
  });

  it("SIGTERM of one of two nodes behind the generated nginx: its clients recover on the other node; nothing acknowledged is lost", async () => {
    const nodes = [
      await GatewayProcess.start(["--workers", "2", "--redis", redis.url, "--trust-proxy", "127.0.0.1"]),
      await GatewayProcess.start(["--workers", "2", "--redis", redis.url, "--trust-proxy", "127.0.0.1"]),
    ];
    const nginx = await NginxServer.start({ upstreams: nodes.map((node) => `127.0.0.1:${node.port}`), balance: "hash" });
    const clients: TestClient[] = [];
    try {
      for (let n = 0; n < 40 && clients.length < 8; n++)
        clients.push(await connectClient(nginx.url, { localAddress: loopbackAddress(300 + n), transports: ["websocket"] }));
      const pidsOf = nodes.map((node) => node.workerPids());
      const nodeOf = (client: TestClient): number => pidsOf.findIndex((pids) => pids.includes(client.hello.pid));
      const onFirst = clients.filter((client) => nodeOf(client) === 0);
      const sender = clients.find((client) => nodeOf(client) === 1);
      assert.ok(onFirst.length > 0 && sender, `clients on both nodes (${clients.map(nodeOf).join(",")})`);
      await joinAll(clients);
      const run = new ChatRun(
        sender,
        clients.filter((client) => client !== sender),
        ROOM,
      );
      run.start(20);
      await waitUntil(() => run.ackedCount >= 20, "20 messages acknowledged before the stop");
      const stopped = nodes[0].stop("SIGTERM");
      await Promise.all(onFirst.map((client) => waitFor(client.socket, "connect", 20_000)));
      assert.equal((await stopped).code, 0);
      const ackedAfter = run.ackedCount;
      await waitUntil(() => run.ackedCount >= ackedAfter + 20, "20 more messages acknowledged after the stop");
      await run.finish();
      run.assertExactlyOnceInOrder();
      for (const log of run.receivers.filter((log) => onFirst.includes(log.client))) assert.deepEqual(log.reconnections, [true]);
      for (const client of onFirst) {
        const { pid } = await request<{ pid: number }>(client.socket, "whoami");
        assert.ok(nodes[1].workerPids().includes(pid), "the stopped node's clients now live on the other node");
      }
    } finally {
      for (const client of clients) client.close();
      await nginx.stop();
      for (const node of nodes) await node.stop();
    }
  });

  it("a client away longer than maxDisconnectionDuration gets a fresh session; within it, its old one", async () => {
    const gateway = await GatewayProcess.start(["--workers", "2", "--redis", redis.url, "--app", SHORT_RECOVERY_APP]);
    const client = await connectClient(gateway.url, { localAddress: loopbackAddress(400), transports: ["websocket"] });
    try {
      await joinAll([client]);
      const manager = client.socket.io;
      // Back within the window: recovered.
      manager.engine.close();
      await waitFor(client.socket, "connect");
      assert.equal(client.socket.recovered, true);
      // Away 3 s (the window is 1.5 s): a new session, out of its rooms.
      const id = client.socket.id;
      manager.reconnectionDelay(3000).reconnectionDelayMax(3000);
      manager.engine.close();
      await waitFor(client.socket, "connect", 15_000);
      assert.equal(client.socket.recovered, false);
      assert.notEqual(client.socket.id, id);
      assert.deepEqual((await request<{ rooms: string[] }>(client.socket, "whoami")).rooms, []);
    } finally {
      client.close();
      await gateway.stop();
    }
  });

  it("a forged or malformed session id or offset gets a fresh session, never another client's state, and leaves the real one usable", async () => {
    const gateway = await GatewayProcess.start(["--workers", "2", "--redis", redis.url]);
    const victim = await connectClient(gateway.url, { localAddress: loopbackAddress(410), transports: ["websocket"] });
    const attacker = await connectClient(gateway.url, { localAddress: loopbackAddress(411), transports: ["websocket"] });
    try {
      await joinAll([victim]);
      const session = attacker.socket as unknown as SessionFields;
      const real = victim.socket as unknown as SessionFields;
      const cases: [string, string | undefined, string | undefined][] = [
        ["a made-up pid", "AAAAAAAAAAAAAAAAAAAA", real._lastOffset],
        ["a malformed pid", "../../etc/passwd\u0000", real._lastOffset],
        ["a long pid", "x".repeat(2000), real._lastOffset],
        ["a malformed offset", real._pid, "not-an-offset"],
        ["an offset from the future", real._pid, "99999999999999-0"],
      ];
      for (const [name, pid, offset] of cases) {
        const id = attacker.socket.id;
        session._pid = pid;
        session._lastOffset = offset;
        attacker.socket.io.engine.close();
        await waitFor(attacker.socket, "connect");
        assert.equal(attacker.socket.recovered, false, name);
        assert.notEqual(attacker.socket.id, victim.socket.id, name);
        assert.notEqual(attacker.socket.id, id, name);
        assert.deepEqual((await request<{ rooms: string[] }>(attacker.socket, "whoami")).rooms, [], name);
      }
      // None of that consumed the victim's session: it still recovers, into its room.
      assert.deepEqual((await request<{ rooms: string[] }>(victim.socket, "whoami")).rooms, [ROOM]);
      victim.socket.io.engine.close();
      await waitFor(victim.socket, "connect");
      assert.equal(victim.socket.recovered, true);
      assert.deepEqual((await request<{ rooms: string[] }>(victim.socket, "whoami")).rooms, [ROOM]);
    } finally {
      victim.close();
      attacker.close();
      await gateway.stop();
    }
  });

  it("Redis Sentinel fail-over during chat: acknowledged messages lost are counted (bounded by replication lag)", async () => {
    const set = await RedisSentinelSet.start({});
    const gateway = await GatewayProcess.start(["--workers", "2", "--redis", set.url()]);
    const clients: TestClient[] = [];
    try {
      for (let n = 0; n < 4; n++) clients.push(await connectClient(gateway.url, { localAddress: loopbackAddress(420 + n), transports: ["websocket"] }));
      await joinAll(clients);
      const [sender, ...receivers] = clients;
      const run = new ChatRun(sender, receivers, ROOM);
      run.start(20);
      await waitUntil(() => run.ackedCount >= 20, "20 messages acknowledged before the fail-over");
      await set.killPrimary();
      await waitUntil(async () => (await set.currentPrimaryPort()) === set.replicaPort, "the sentinels promote the replica", 20_000, 200);
      const ackedAfter = run.ackedCount;
      await waitUntil(() => run.ackedCount >= ackedAfter + 20, "20 more messages acknowledged through the new primary", 30_000);
      run.pause();
      // Acknowledged messages that were in the old primary only (not yet replicated) are the one
      // loss allowed here; docs/reliability.md states the bound. Everything received is in order, once.
      await run.finish(20_000).catch(() => {});
      const lost = new Set(run.receivers.flatMap((log) => run.acked.filter((number) => !log.numbers.includes(number))));
      process.stdout.write(`# sentinel fail-over: ${lost.size} of ${run.acked.length} acknowledged messages lost\n`);
      assert.ok(lost.size <= 5, `at most a few acknowledged messages lost in the fail-over, got ${lost.size}`);
      for (const log of run.receivers) for (let i = 1; i < log.numbers.length; i++) assert.ok(log.numbers[i] > log.numbers[i - 1], "in order, once");
    } finally {
      for (const client of clients) client.close();
      await gateway.stop();
      await set.stop();
    }
  });
});
