/**
 * Redis Cluster: three primaries with a replica each (`redis-cli --cluster create`), two gateway
 * nodes of two workers on the sharded adapter (`--redis redis-cluster://…`), rooms whose
 * channels hash to three different primaries. Chat, join member counts, the emitter (every
 * request type), `sio-gateway emit` and `POST /emit` across both nodes; the same with
 * `?pubsub=plain`; /readyz and the metrics; then a primary is killed and its replica takes over.
 */
import assert from "node:assert/strict";
import { Emitter as StockEmitter } from "@socket.io/redis-emitter";
import { Cluster } from "ioredis";
import { after, before, describe, it } from "node:test";
import type { ClusterReading } from "../../adapter/cluster-health.js";
import { GatewayEmitter } from "../../adapter/emitter/index.js";
import type { RedisTopology } from "../../adapter/types.js";
import { chatUntilItCrosses } from "../helpers/chat-run.js";
import { clientsPerWorker, request, type TestClient } from "../helpers/clients.js";
import { binaryPayload, ECHO_APP, PUBSUB_DEMO_APP } from "../helpers/fixtures.js";
import { GatewayProcess, runCli } from "../helpers/gateway-process.js";
import { Inbox } from "../helpers/inbox.js";
import { parsePrometheus, valueOf } from "../helpers/prometheus.js";
import { RedisClusterSet } from "../helpers/redis-cluster.js";
import { waitFor, waitUntil } from "../helpers/wait.js";

const TOKEN = "cluster-token";

interface Member {
  client: TestClient;
  inbox: Inbox;
  node: "A" | "B";
  room: string;
}

/** The channel the sharded adapter gives a room (adapter/sharded-wire.ts). */
const roomChannel = (room: string) => `socket.io#/#${room}#`;

/** Three room names whose channels live on three different primaries. */
async function roomsOnEveryShard(set: RedisClusterSet): Promise<string[]> {
  const byPrimary = new Map<number, string>();
  for (let n = 0; n < 200 && byPrimary.size < 3; n++) {
    const room = `room-${n}`;
    const primary = await set.primaryFor(roomChannel(room));
    if (!byPrimary.has(primary)) byPrimary.set(primary, room);
  }
  assert.equal(byPrimary.size, 3, "rooms on three shards");
  return [...byPrimary.values()];
}

/** The part of a worker's /readyz body (gateway/worker/http.ts) these tests read: on a Redis Cluster, `redis.cluster` is always there. */
interface ClusterReadyz {
  adapterConnected: boolean;
  redis: RedisTopology & { cluster: ClusterReading };
}

async function readyz(url: string): Promise<{ status: number; body: ClusterReadyz }> {
  const response = await fetch(`${url}/readyz`);
  return { status: response.status, body: (await response.json()) as ClusterReadyz };
}

describe("Redis Cluster with sharded pub/sub, two gateway nodes", () => {
  let set: RedisClusterSet;
  let nodeA: GatewayProcess;
  let nodeB: GatewayProcess;
  let emitter: GatewayEmitter;
  let rooms: string[];
  const members: Member[] = [];
  const inRoom = (room: string) => members.filter((member) => member.room === room);

  before(async () => {
    set = await RedisClusterSet.start({ replicas: true });
    rooms = await roomsOnEveryShard(set);
    const args = ["--workers", "2", "--redis", set.url(), "--emit-token", TOKEN, "--app", PUBSUB_DEMO_APP];
    nodeA = await GatewayProcess.start(args);
    nodeB = await GatewayProcess.start(args);
    emitter = new GatewayEmitter({ redis: set.url(), timeout: 3000 });
    // On each worker of each node one member per room: every room has 4 members, one per gateway process.
    for (const [node, gateway, offset] of [
      ["A", nodeA, 0],
      ["B", nodeB, 100],
    ] as const) {
      const clients = await clientsPerWorker(gateway.url, 2, 3, { transports: ["websocket"] }, offset);
      for (const worker of [0, 1]) {
        clients
          .filter((client) => client.hello.worker === worker)
          .forEach((client, index) => members.push({ client, inbox: new Inbox(client.socket), node, room: rooms[index] }));
      }
    }
  });

  after(async () => {
    await emitter?.close();
    for (const member of members) member.client.close();
    const results = await Promise.all([nodeA?.stop(), nodeB?.stop()]);
    await set?.stop();
    for (const result of results) if (result) assert.equal(result.code, 0, result.stderr);
  });

  it("join counts members on both nodes, and chat reaches exactly the room's members, in rooms on three shards", async () => {
    for (const room of rooms) {
      const counts: number[] = [];
      for (const member of inRoom(room)) counts.push((await request<{ members: number }>(member.client.socket, "join", room)).members);
      assert.deepEqual(counts, [1, 2, 3, 4], `members of ${room} as each joins`);
    }
    for (const room of rooms) {
      const [sender] = inRoom(room).filter((member) => member.node === "A");
      await request(sender.client.socket, "chat", { room, text: `hello ${room}` });
      await Promise.all(inRoom(room).map((member) => member.inbox.waitFor("chat")));
    }
    for (const member of members) {
      assert.deepEqual(
        member.inbox.of("chat").map(([message]) => (message as { text: string }).text),
        [`hello ${member.room}`],
        `${member.node} worker ${member.client.hello.worker}`,
      );
    }
  });

  it("the emitter reaches rooms on every shard, counted by the processes that have members", async () => {
    for (const room of rooms) {
      const before = inRoom(room).map((member) => member.inbox.of("news").length);
      // The room's own channel: its 4 subscribers are the 4 gateway processes with members in it.
      assert.equal(await emitter.to(room).emit("news", room), 4);
      await Promise.all(inRoom(room).map((member, index) => member.inbox.waitFor("news", before[index] + 1)));
    }
    // A room with one member has one subscriber: the emitter used that room's channel, as the adapter does.
    const solo = members[0];
    await request(solo.client.socket, "join", "solo-room");
    assert.equal(await emitter.to("solo-room").emit("news", "solo"), 1);
    await waitUntil(() => solo.inbox.of("news").some(([text]) => text === "solo"), "the solo room's emit");
    // The namespace channel reaches every gateway process.
    assert.equal(await emitter.emit("everyone", 1), 4);
    await Promise.all(members.map((member) => member.inbox.waitFor("everyone")));
    assert.equal(await emitter.to("nobody-here").emit("news", "lost"), 0);
  });

  it("binary arrives byte for byte; except, socketsJoin, socketsLeave and disconnectSockets work across nodes", async () => {
    const [first, second, third] = rooms as [string, string, string];
    const bytes = binaryPayload(64 * 1024);
    await emitter.to(first).emit("file", { name: "x.bin", bytes });
    for (const member of inRoom(first)) {
      const [[file]] = (await member.inbox.waitFor("file")) as [[{ bytes: Buffer }]];
      assert.ok(Buffer.from(file.bytes).equals(bytes));
    }

    // Two rooms minus one: the namespace channel, filtered on arrival.
    await emitter.to([first, second]).except(second).emit("filtered", 1);
    await Promise.all(inRoom(first).map((member) => member.inbox.waitFor("filtered")));
    // A fence on the same channel (two rooms: the namespace channel, one slot, one subscriber connection
    // per process): once it arrived, the filtered emit, published before it, had arrived too.
    await emitter.to([second, third]).emit("fence", 1);
    await Promise.all(inRoom(second).map((member) => member.inbox.waitFor("fence")));
    assert.deepEqual(
      inRoom(second).filter((member) => member.inbox.of("filtered").length > 0),
      [],
    );

    // Membership changes travel on the namespace channel; the new room's channel is subscribed on arrival.
    assert.equal(await emitter.in(third).socketsJoin("joined-later"), 4);
    await waitUntil(async () => (await emitter.to("joined-later").emit("later", 1)) === 4, "every process subscribed to the new room's channel");
    await Promise.all(inRoom(third).map((member) => member.inbox.waitFor("later")));
    assert.deepEqual(
      inRoom(first).filter((member) => member.inbox.of("later").length > 0),
      [],
    );
    await emitter.in(third).socketsLeave("joined-later");
    await waitUntil(async () => (await emitter.to("joined-later").emit("later", 2)) === 0, "the room is gone everywhere");

    const leaving = inRoom(third).find((member) => member.node === "B")!;
    await request(leaving.client.socket, "join", "to-disconnect");
    const disconnected = waitFor<[string]>(leaving.client.socket, "disconnect");
    await emitter.in("to-disconnect").disconnectSockets();
    assert.equal((await disconnected)[0], "io server disconnect");
    leaving.client.socket.connect();
    await waitFor(leaving.client.socket, "hello");
    await request(leaving.client.socket, "join", leaving.room);
  });

  it("sio-gateway emit and POST /emit reach both nodes through the sharded channels", async () => {
    const [first, second] = rooms as [string, string];
    const cli = await runCli(["emit", "--redis", set.url(), "--to", first, "from-cli", '{"n":1}']);
    assert.equal(cli.code, 0, cli.stderr);
    assert.equal(cli.stdout, 'delivered "from-cli" to 4 gateway processes\n');
    await Promise.all(inRoom(first).map((member) => member.inbox.waitFor("from-cli")));

    const response = await fetch(`${nodeB.url}/emit`, {
      method: "POST",
      headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" },
      body: JSON.stringify({ event: "from-http", data: { n: 2 }, to: [second] }),
    });
    assert.equal(response.status, 202);
    await Promise.all(inRoom(second).map((member) => member.inbox.waitFor("from-http")));
    assert.deepEqual(inRoom(second)[0].inbox.of("from-http"), [[{ n: 2 }]]);
  });

  it("/readyz and the metrics show the cluster: sharded, state ok, 3 primaries and 3 replicas", async () => {
    const { status, body } = await readyz(nodeA.url);
    assert.equal(status, 200);
    assert.deepEqual(body.redis, { mode: "cluster", pubsub: "sharded", cluster: { state: "ok", primaries: 3, replicas: 3 } });
    const samples = parsePrometheus(await (await fetch(`${nodeA.url}/metrics`)).text());
    for (const worker of ["0", "1"]) {
      assert.equal(valueOf(samples, "sio_gateway_redis_info", { worker, mode: "cluster", pubsub: "sharded" }), 1);
      assert.equal(valueOf(samples, "sio_gateway_redis_cluster_ok", { worker }), 1);
      assert.equal(valueOf(samples, "sio_gateway_redis_cluster_nodes", { worker, role: "primary" }), 3);
      assert.equal(valueOf(samples, "sio_gateway_redis_cluster_nodes", { worker, role: "replica" }), 3);
    }
  });

  it("plain pub/sub on the same cluster (?pubsub=plain): the classic adapter, our emitter and the stock one", async () => {
    const plainUrl = set.url("?pubsub=plain");
    const gateway = await GatewayProcess.start(["--workers", "2", "--redis", plainUrl, "--app", ECHO_APP]);
    const clients = await clientsPerWorker(gateway.url, 2, 1, { transports: ["websocket"] }, 200);
    const admin = await clientsPerWorker(`${gateway.url}/admin`, 2, 1, { transports: ["websocket"] }, 300);
    const adminInboxes = admin.map((client) => new Inbox(client.socket));
    const plainEmitter = new GatewayEmitter({ redis: plainUrl, timeout: 3000 });
    const stockClient = new Cluster(set.ports.slice(0, 2).map((port) => ({ host: "127.0.0.1", port })));
    try {
      assert.equal((await readyz(gateway.url)).body.redis.pubsub, "plain");
      const inboxes = clients.map((client) => new Inbox(client.socket));
      for (const client of clients) await request(client.socket, "join", "plain-room");
      // Plain PUBLISH reaches every subscriber on the whole cluster (the bus relays it to every node),
      // but Redis counts only those connected to the node that took the PUBLISH, so its answer
      // (0 to 2 here) proves nothing: the deliveries do.
      await plainEmitter.to("plain-room").emit("plain-news", 1);
      await Promise.all(inboxes.map((inbox) => inbox.waitFor("plain-news")));
      new StockEmitter(stockClient).to("plain-room").emit("stock-news", 2);
      await Promise.all(inboxes.map((inbox) => inbox.waitFor("stock-news")));
      // The sharded gateways never see plain messages, and this one never sees sharded ones.
      assert.equal(await emitter.to("plain-room").emit("sharded-news", 3), 0);
      assert.deepEqual(admin.map((client) => client.hello.worker).sort(), [0, 1]);
      await plainEmitter.of("/admin").emit("admin-news", 4);
      await Promise.all(adminInboxes.map((inbox) => inbox.waitFor("admin-news")));
      await plainEmitter.serverSideEmit("announce", "hi");
      await Promise.all(inboxes.map((inbox) => inbox.waitFor("announced")));
    } finally {
      admin.forEach((client) => client.close());
      clients.forEach((client) => client.close());
      await plainEmitter.close();
      stockClient.disconnect();
      const result = await gateway.stop();
      assert.equal(result.code, 0, result.stderr);
    }
  });

  it("a killed primary's replica takes over: chat and the emitter work again without a restart, /readyz follows", async () => {
    const [first] = rooms as [string];
    const primary = await set.primaryFor(roomChannel(first));
    await set.kill(primary);
    await waitUntil(async () => (await set.primaryFor(roomChannel(first)).catch(() => primary)) !== primary, "a replica serves the room's slot", 30_000, 200);

    const sender = inRoom(first).find((member) => member.node === "A")!;
    const receiver = inRoom(first).find((member) => member.node === "B" && member.client.hello.worker === 1)!;
    await chatUntilItCrosses(sender.client.socket, receiver.inbox, first, "a chat crosses nodes through the promoted replica", 30_000, 250);
    await waitUntil(
      async () =>
        (await emitter
          .to(first)
          .emit("news", "after")
          .catch(() => 0)) === 4,
      "the emitter reaches all four processes again",
      30_000,
      250,
    );
    await waitUntil(
      async () => {
        const { status, body } = await readyz(nodeB.url);
        return status === 200 && body.redis.cluster.primaries === 3 && body.redis.cluster.replicas === 2;
      },
      "/readyz: ready, 3 primaries and 2 replicas",
      30_000,
      250,
    );
  });
});

describe("Redis Cluster without replicas: a lost shard", () => {
  it("turns /readyz to 503 and the cluster gauge to 0 while slots are unserved, and back when the node returns", async () => {
    const set = await RedisClusterSet.start({ primaries: 3 });
    const gateway = await GatewayProcess.start(["--workers", "2", "--redis", set.url(), "--app", PUBSUB_DEMO_APP]);
    const clients = await clientsPerWorker(gateway.url, 2, 1, { transports: ["websocket"] });
    try {
      assert.equal((await readyz(gateway.url)).status, 200);
      const room = (await roomsOnEveryShard(set))[0];
      for (const client of clients) await request(client.socket, "join", room);
      const lost = await set.primaryFor(roomChannel(room));
      await set.kill(lost);
      await waitUntil(
        async () => {
          const { status, body } = await readyz(gateway.url);
          return status === 503 && body.redis.cluster.state === "fail" && body.adapterConnected === false;
        },
        "/readyz reports the failed cluster",
        20_000,
        200,
      );
      const samples = parsePrometheus(await (await fetch(`${gateway.url}/metrics`)).text());
      assert.equal(valueOf(samples, "sio_gateway_redis_cluster_ok", { worker: "0" }), 0);
      assert.equal(valueOf(samples, "sio_gateway_adapter_connected", { worker: "0", adapter: "redis" }), 0);

      await set.restart(lost);
      await waitUntil(
        async () => {
          const { status, body } = await readyz(gateway.url);
          return status === 200 && body.redis.cluster.state === "ok" && body.redis.cluster.primaries === 3;
        },
        "/readyz is ready again",
        20_000,
        200,
      );
      // The room's channel lives on the node that came back: the workers subscribed to it again.
      const [a, b] = clients.sort((x, y) => x.hello.worker - y.hello.worker);
      const inboxB = new Inbox(b.socket);
      await chatUntilItCrosses(a.socket, inboxB, room, "a chat crosses workers through the returned shard", 20_000, 250);
    } finally {
      for (const client of clients) client.close();
      const result = await gateway.stop();
      await set.stop();
      assert.equal(result.code, 0, result.stderr);
    }
  });
});
