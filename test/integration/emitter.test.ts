/**
 * Pushing from outside Socket.IO: the stock @socket.io/redis-emitter, our emitter module,
 * `sio-gateway emit` and `POST /emit`, against the real gateway (2 workers, private Redis),
 * with clients on both workers and in different rooms.
 */
import assert from "node:assert/strict";
import { Emitter as StockEmitter } from "@socket.io/redis-emitter";
import { Redis } from "ioredis";
import { after, before, describe, it } from "node:test";
import { io as connectNamespace } from "socket.io-client";
import { GatewayEmitter } from "../../adapter/emitter/index.js";
import { GatewayError } from "../../common/errors.js";
import { slotForIp } from "../../gateway/routing.js";
import { connectClient, loopbackAddress, request, type TestClient } from "../helpers/clients.js";
import { httpRequest } from "../helpers/engine-raw.js";
import { binaryPayload, ECHO_APP } from "../helpers/fixtures.js";
import { GatewayProcess, runCli } from "../helpers/gateway-process.js";
import { Inbox } from "../helpers/inbox.js";
import { RedisServer } from "../helpers/redis-server.js";
import { waitFor, waitUntil } from "../helpers/wait.js";

const TOKEN = "s3cret-token";

interface Member {
  client: TestClient;
  inbox: Inbox;
  room: "red" | "blue";
}

/** Four clients: on each worker one in room red and one in room blue. */
async function membersOnBothWorkers(url: string): Promise<Member[]> {
  const members: Member[] = [];
  const want = new Map([
    ["0red", 1],
    ["0blue", 1],
    ["1red", 1],
    ["1blue", 1],
  ]);
  for (let n = 0; n < 100 && members.length < 4; n++) {
    const localAddress = loopbackAddress(n);
    const slot = slotForIp(localAddress, 2);
    const room = want.get(`${slot}red`) ? "red" : want.get(`${slot}blue`) ? "blue" : undefined;
    if (!room) continue;
    want.set(`${slot}${room}`, 0);
    const client = await connectClient(url, { localAddress, transports: ["websocket"] });
    await request(client.socket, "join", room);
    members.push({ client, inbox: new Inbox(client.socket), room });
  }
  return members;
}

/**
 * Everything published before a fence reaches a client before the fence does (one publisher
 * connection, one subscriber connection per worker, one socket per client): so once the
 * fence arrived everywhere, what did not arrive never will.
 */
async function fence(emitter: GatewayEmitter, members: Member[], label: string): Promise<void> {
  const expected = members.map((member) => member.inbox.of("fence").length + 1);
  await emitter.emit("fence", label);
  await Promise.all(members.map((member, index) => member.inbox.waitFor("fence", expected[index])));
}

function arrivals(members: Member[], event: string): string[] {
  return members
    .filter((member) => member.inbox.of(event).length > 0)
    .map((member) => `${member.client.hello.worker}${member.room}`)
    .sort();
}

describe("emitters against the gateway in Redis mode", () => {
  let redis: RedisServer;
  let gateway: GatewayProcess;
  let members: Member[];
  let emitter: GatewayEmitter;

  before(async () => {
    redis = await RedisServer.start();
    gateway = await GatewayProcess.start(["--workers", "2", "--redis", redis.url, "--app", ECHO_APP, "--emit-token", TOKEN]);
    members = await membersOnBothWorkers(gateway.url);
    emitter = new GatewayEmitter({ redis: redis.url, timeout: 2000 });
  });
  after(async () => {
    await emitter.close();
    for (const member of members) member.client.close();
    const result = await gateway.stop();
    await redis.stop();
    assert.equal(result.code, 0, result.stderr);
  });

  it("the stock @socket.io/redis-emitter delivers into the gateway's rooms (wire compatibility)", async () => {
    const client = new Redis(redis.url);
    try {
      new StockEmitter(client).to("red").emit("stock", { from: "stock emitter" });
      await client.ping(); // one connection runs its commands in order: the PUBLISH has run
      await fence(emitter, members, "stock");
      assert.deepEqual(arrivals(members, "stock"), ["0red", "1red"]);
      assert.deepEqual(members.find((m) => m.room === "red")!.inbox.of("stock")[0], [{ from: "stock emitter" }]);
    } finally {
      await client.quit();
    }
  });

  it("emits to rooms with except, and resolves with the number of gateway processes", async () => {
    assert.equal(await emitter.to("blue").emit("to-blue", 1), 2);
    assert.equal(await emitter.to(["red", "blue"]).except("blue").emit("red-not-blue", 2), 2);
    assert.equal(await emitter.except("red").emit("all-but-red", 3), 2);
    await fence(emitter, members, "rooms");
    assert.deepEqual(arrivals(members, "to-blue"), ["0blue", "1blue"]);
    assert.deepEqual(arrivals(members, "red-not-blue"), ["0red", "1red"]);
    assert.deepEqual(arrivals(members, "all-but-red"), ["0blue", "1blue"]);
  });

  it("delivers a binary payload byte-identical", async () => {
    const payload = binaryPayload();
    await emitter.to("red").emit("binary", payload);
    const reds = members.filter((member) => member.room === "red");
    for (const member of reds) {
      const [[received]] = (await member.inbox.waitFor("binary")) as [[Buffer]];
      assert.ok(Buffer.from(received).equals(payload));
    }
  });

  it("reaches another namespace, and reports 0 receivers for a namespace nobody serves", async () => {
    const admin = connectNamespace(`${gateway.url}/admin`, { transports: ["websocket"], forceNew: true });
    try {
      await waitFor(admin, "hello");
      const inbox = new Inbox(admin);
      assert.equal(await emitter.of("/admin").emit("admin-news", "hi"), 2);
      assert.deepEqual(await inbox.waitFor("admin-news"), [["hi"]]);
      assert.equal(await emitter.of("/nobody-here").emit("lost", 1), 0);
    } finally {
      admin.disconnect();
    }
  });

  it("socketsJoin then a room emit reaches the joined sockets; socketsLeave undoes it", async () => {
    assert.equal(await emitter.in("red").socketsJoin("crimson"), 2);
    await emitter.to("crimson").emit("crimson-news", 1);
    await fence(emitter, members, "join");
    assert.deepEqual(arrivals(members, "crimson-news"), ["0red", "1red"]);
    await emitter.in("red").socketsLeave("crimson");
    await emitter.to("crimson").emit("crimson-again", 1);
    await fence(emitter, members, "leave");
    assert.deepEqual(arrivals(members, "crimson-again"), []);
  });

  it("serverSideEmit reaches every gateway process", async () => {
    assert.equal(await emitter.serverSideEmit("announce", "server news"), 2);
    const [[announced]] = (await members[0].inbox.waitFor("announced")) as [[{ text: string }]];
    assert.equal(announced.text, "server news");
  });

  it("refuses reserved event names", async () => {
    await assert.rejects(emitter.emit("disconnect"), (error: Error) => error instanceof GatewayError && /reserved/.test(error.message));
  });

  it("`sio-gateway emit` delivers and exits 0; bad JSON or no Redis exits 2 with one line", async () => {
    const delivered = await runCli(["emit", "--redis", redis.url, "--to", "blue", "--except", "red", "cli-news", '{"n":1,"text":"한국어"}']);
    assert.equal(delivered.code, 0, delivered.stderr);
    assert.match(delivered.stdout, /^delivered "cli-news" to 2 gateway processes\n$/);
    for (const member of members.filter((m) => m.room === "blue")) assert.deepEqual(await member.inbox.waitFor("cli-news"), [[{ n: 1, text: "한국어" }]]);

    const badJson = await runCli(["emit", "--redis", redis.url, "x", "{nope"]);
    assert.equal(badJson.code, 2);
    assert.match(badJson.stderr, /^sio-gateway: invalid option "JSON": expected valid JSON for the event data, got ".+"\n$/);
    const noRedis = await runCli(["emit", "x", "1"], { REDIS_URL: "" });
    assert.equal(noRedis.code, 2);
    assert.match(noRedis.stderr, /^sio-gateway: missing option "redis"/);
  });

  it("POST /emit: 202 and delivery; 401 without or with a wrong token; 400 on a bad body; 413 when too large", async () => {
    const post = (body: string, headers: Record<string, string>) =>
      httpRequest(gateway.port, "POST", "/emit", { body, headers: { "Content-Type": "application/json", ...headers } });
    const auth = { Authorization: `Bearer ${TOKEN}` };

    const accepted = await post(JSON.stringify({ event: "http-news", data: { a: [1, 2] }, to: ["red"] }), auth);
    assert.equal(accepted.status, 202);
    assert.deepEqual(JSON.parse(accepted.body.toString()), { ok: true });
    for (const member of members.filter((m) => m.room === "red")) assert.deepEqual(await member.inbox.waitFor("http-news"), [[{ a: [1, 2] }]]);

    assert.equal((await post(JSON.stringify({ event: "x" }), {})).status, 401);
    assert.equal((await post(JSON.stringify({ event: "x" }), { Authorization: "Bearer wrong" })).status, 401);
    for (const body of [
      "{not json",
      JSON.stringify({ data: 1 }),
      JSON.stringify({ event: "connect" }),
      JSON.stringify({ event: "x", to: [""] }),
      JSON.stringify([1]),
    ]) {
      const refused = await post(body, auth);
      assert.equal(refused.status, 400, body);
      const answer = JSON.parse(refused.body.toString()) as { ok: boolean; error: string };
      assert.equal(answer.ok, false);
      assert.ok(answer.error.length > 0);
    }
    assert.equal((await post(JSON.stringify({ event: "x", data: "y".repeat(1_100_000) }), auth)).status, 413);
  });

  it("rejects within its timeout with a clear error while Redis is down, and works again after it is back", async () => {
    await redis.stop();
    const started = Date.now();
    await assert.rejects(emitter.emit("during-outage", 1), (error: Error) => {
      assert.ok(error instanceof GatewayError);
      assert.equal(error.code, "ERR_REDIS_UNAVAILABLE");
      assert.match(error.message, /^Redis at redis:\/\/127\.0\.0\.1:\d+ is unavailable: /);
      return true;
    });
    assert.ok(Date.now() - started < 4000, "the emit waited much longer than its 2000 ms timeout");
    await redis.startProcess();
    // The workers resubscribe and the emitter reconnects by themselves; no event tells the test when.
    let receivers = 0;
    await waitUntil(async () => (receivers = await emitter.emit("after-outage", 1).catch(() => 0)) === 2, "emits reach both workers again", 15_000, 100);
    assert.equal(receivers, 2);
    await members[0].inbox.waitFor("after-outage");
  });
});

describe("POST /emit in single-machine mode, and when disabled", () => {
  it("delivers across both workers without Redis", async () => {
    const gateway = await GatewayProcess.start(["--workers", "2", "--app", ECHO_APP, "--emit-token", TOKEN]);
    const members = await membersOnBothWorkers(gateway.url);
    try {
      const response = await httpRequest(gateway.port, "POST", "/emit", {
        body: JSON.stringify({ event: "ipc-news", data: "hello", to: "blue" }),
        headers: { "Content-Type": "application/json", Authorization: `Bearer ${TOKEN}` },
      });
      assert.equal(response.status, 202);
      for (const member of members.filter((m) => m.room === "blue")) assert.deepEqual(await member.inbox.waitFor("ipc-news"), [["hello"]]);
    } finally {
      for (const member of members) member.client.close();
      assert.equal((await gateway.stop()).code, 0);
    }
  });

  it("answers 404 when no token is configured", async () => {
    const gateway = await GatewayProcess.start(["--workers", "1"]);
    try {
      const response = await httpRequest(gateway.port, "POST", "/emit", {
        body: "{}",
        headers: { "Content-Type": "application/json", Authorization: "Bearer x" },
      });
      assert.equal(response.status, 404);
    } finally {
      assert.equal((await gateway.stop()).code, 0);
    }
  });
});
