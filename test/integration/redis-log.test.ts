/**
 * The recovery log on Redis (adapter/recovery/redis-log.ts) and its session store, against a
 * private redis-server: two logs stand for two gateway processes. The last suite starts a real
 * gateway in recovery mode (the demo app turns it on) to check that what the emitter appends is
 * what the gateway's adapter delivers.
 */
import assert from "node:assert/strict";
import { createServer, connect, type Server, type Socket } from "node:net";
import { after, before, describe, it } from "node:test";
import { Redis } from "ioredis";
import { decode } from "notepack.io";
import { pino } from "pino";
import { MessageType, type ClusterMessage, type ClusterResponse } from "socket.io-adapter";
import { GatewayEmitter } from "../../adapter/emitter/index.js";
import type { LogEntry, RecoveryBounds, SessionRecord } from "../../adapter/recovery/ordered-log.js";
import { markLogTransport, RedisOrderedLog, type LogTrimming } from "../../adapter/recovery/redis-log.js";
import { logStreamKey, messageFields } from "../../adapter/recovery/redis-log-wire.js";
import { clientsPerWorker, request, type TestClient } from "../helpers/clients.js";
import { GatewayProcess } from "../helpers/gateway-process.js";
import { RedisServer } from "../helpers/redis-server.js";
import { waitFor, waitUntil } from "../helpers/wait.js";

const logger = pino({ level: process.env.LOG_LEVEL ?? "silent" });
const BOUNDS: RecoveryBounds = { maxDisconnectionDuration: 60_000, maxEntries: 10_000 };

/** A log standing for one gateway process, with everything it received. */
class Reader {
  readonly entries: LogEntry[] = [];
  readonly responses: ClusterResponse[] = [];

  constructor(readonly log: RedisOrderedLog) {
    log.subscribe(
      (entry) => this.entries.push(entry),
      (response) => this.responses.push(response),
    );
  }

  static async open(url: string, bounds = BOUNDS, trimming?: Partial<LogTrimming>): Promise<Reader> {
    const reader = new Reader(new RedisOrderedLog(url, bounds, logger, trimming));
    await reader.log.whenConnected();
    return reader;
  }

  /** The `n` values of the test broadcasts received, in order. */
  values(): number[] {
    return this.entries.map(valueOf);
  }
}

/** A message in ClusterAdapter's shape (a SERVER_SIDE_EMIT, the simplest), carrying `n` and a Buffer. */
function message(uid: string, n: number): ClusterMessage {
  return { uid, nsp: "/", type: MessageType.SERVER_SIDE_EMIT, data: { n, packet: ["tick", Buffer.from([n % 256])] } } as unknown as ClusterMessage;
}

/**
 * A TCP proxy to Redis whose open connections can be frozen: no byte passes any more and
 * neither side is told, as when a host vanishes without a reset. New connections pass.
 */
class FreezingProxy {
  private readonly pairs = new Set<[Socket, Socket]>();

  private constructor(private readonly server: Server) {}

  static async start(targetPort: number): Promise<FreezingProxy> {
    const server = createServer();
    const proxy = new FreezingProxy(server);
    server.on("connection", (client) => {
      const upstream = connect(targetPort, "127.0.0.1");
      const pair: [Socket, Socket] = [client, upstream];
      proxy.pairs.add(pair);
      for (const socket of pair) {
        socket.on("error", () => {});
        socket.on("close", () => {
          proxy.pairs.delete(pair);
          client.destroy();
          upstream.destroy();
        });
      }
      client.pipe(upstream);
      upstream.pipe(client);
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    return proxy;
  }

  get url(): string {
    return `redis://127.0.0.1:${(this.server.address() as { port: number }).port}`;
  }

  freeze(): void {
    for (const [client, upstream] of this.pairs) {
      client.unpipe(upstream);
      upstream.unpipe(client);
      client.pause();
      upstream.pause();
    }
  }

  /** Only Redis' answers stop: commands still reach it (a reply lost, as in a one-way partition). */
  freezeReplies(): void {
    for (const [client, upstream] of this.pairs) {
      upstream.unpipe(client);
      upstream.pause();
    }
  }

  async close(): Promise<void> {
    for (const pair of this.pairs) for (const socket of pair) socket.destroy();
    await new Promise((resolve) => this.server.close(resolve));
  }
}

/** The `n` of a test message. */
function valueOf(entry: LogEntry): number {
  return (entry.message as unknown as { data: { n: number } }).data.n;
}

function session(pid: string, owner: string, data: unknown = { name: "ada" }): SessionRecord {
  return { sid: `sid-${pid}`, pid, rooms: ["sid-" + pid, "lobby"], data, owner };
}

describe("recovery log on Redis: two readers", () => {
  let redis: RedisServer;
  let a: Reader;
  let b: Reader;
  let probe: Redis;

  before(async () => {
    redis = await RedisServer.start();
    probe = new Redis(redis.url);
    probe.on("error", () => {}); // Redis is restarted below; the probe is not under test
    // Appended before the logs exist: not theirs to read (they start at the stream's end).
    await probe.xadd(logStreamKey(), "*", "message", "old");
    [a, b] = await Promise.all([Reader.open(redis.url), Reader.open(redis.url)]);
  });

  after(async () => {
    await Promise.all([a?.log.close(), b?.log.close()]);
    probe?.disconnect();
    await redis?.stop();
  });

  it("delivers every append to both readers in one order, each one's own included, with increasing offsets", async () => {
    const appended = await Promise.all(Array.from({ length: 40 }, (_, n) => (n % 2 ? a : b).log.append(message(n % 2 ? "uid-a" : "uid-b", n))));
    await waitUntil(() => a.entries.length >= 40 && b.entries.length >= 40, "both readers have 40 entries");
    assert.deepEqual(a.values(), b.values());
    assert.deepEqual(new Set(a.values()), new Set(Array.from({ length: 40 }, (_, n) => n)));
    assert.deepEqual(
      a.entries.map((entry) => entry.offset),
      b.entries.map((entry) => entry.offset),
    );
    assert.deepEqual(new Set(a.entries.map((entry) => entry.offset)), new Set(appended));
    for (let i = 1; i < a.entries.length; i++) assert.ok(a.log.compareOffsets(a.entries[i - 1].offset, a.entries[i].offset) < 0);
    // Buffers survive the trip (msgpack).
    const first = a.entries[0].message as unknown as { data: { packet: [string, Buffer] } };
    assert.ok(Buffer.isBuffer(first.data.packet[1]));
  });

  it("readAfter gives exactly the entries after an offset, at most `limit`", async () => {
    const offsets = a.entries.map((entry) => entry.offset);
    const all = await b.log.readAfter(offsets[9], 1000);
    assert.deepEqual(
      all?.map((entry) => entry.offset),
      offsets.slice(10),
    );
    const some = await b.log.readAfter(offsets[9], 5);
    assert.deepEqual(
      some?.map((entry) => entry.offset),
      offsets.slice(10, 15),
    );
    assert.deepEqual(await b.log.readAfter(offsets[offsets.length - 1], 10), []);
  });

  it("readAfter refuses offsets that are not entries: forged, malformed, out of range", async () => {
    const last = a.entries[a.entries.length - 1].offset;
    const [time, seq] = last.split("-");
    assert.equal(await a.log.readAfter(`${time}-${Number(seq) + 1000}`, 10), undefined);
    assert.equal(await a.log.readAfter("1-0", 10), undefined);
    for (const bad of ["", "0", "abc", "1-2-3", "-1-0", "99999999999999999999-0", "1-0 ", "(1-0"]) {
      assert.equal(a.log.isOffset(bad), false, bad);
      assert.equal(await a.log.readAfter(bad, 10), undefined, bad);
    }
    assert.equal(a.log.isOffset(last), true);
  });

  it("hands a response only to the process that appended the request, and never replays it", async () => {
    const before = a.entries.length;
    await a.log.append(message("requester-a", 1000));
    await waitUntil(() => b.entries.length > before, "b read the request");
    const request = b.entries[b.entries.length - 1];
    const response = { uid: "uid-b", nsp: "/", type: MessageType.SERVER_SIDE_EMIT_RESPONSE, data: { requestId: "r1", packet: ["ok"] } } as ClusterResponse;
    await b.log.respond("requester-a", response);
    await a.log.append(message("uid-a", 1001)); // a fence: read after the response
    await waitUntil(() => a.values().includes(1001) && b.values().includes(1001), "both read the fence");
    assert.deepEqual(a.responses, [response]);
    assert.deepEqual(b.responses, []);
    const replay = await b.log.readAfter(request.offset, 10);
    assert.deepEqual(replay?.map(valueOf), [1001]);
  });

  it("drops the copy of an append that was sent twice (ioredis resends an unanswered XADD after a reconnection)", async () => {
    const before = a.entries.length;
    const start = a.entries[before - 1].offset;
    const fields = messageFields(message("uid-a", 4000), "resent.0");
    await probe.xadd(logStreamKey(), "*", ...fields);
    await probe.xadd(logStreamKey(), "*", ...messageFields(message("uid-b", 4001), "other.0"));
    await probe.xadd(logStreamKey(), "*", ...fields);
    await a.log.append(message("uid-a", 4002));
    await waitUntil(() => a.values().includes(4002) && b.values().includes(4002), "both read the fence");
    assert.deepEqual(a.values().slice(before), [4000, 4001, 4002]);
    assert.deepEqual(b.values().slice(before), [4000, 4001, 4002]);
    assert.deepEqual((await a.log.readAfter(start, 10))?.map(valueOf), [4000, 4001, 4002]);
    // The first copy before the offset: the second is still recognised.
    assert.deepEqual((await b.log.readAfter(a.entries[before].offset, 10))?.map(valueOf), [4001, 4002]);
  });

  it("sessions: save and take once; saveIfOwner and remove only for the owner", async () => {
    const store = a.log.sessions;
    await store.save(session("p1", "owner-a"), 60_000);
    assert.deepEqual(await b.log.sessions.take("p1"), session("p1", "owner-a"));
    assert.equal(await b.log.sessions.take("p1"), undefined, "a session is restored at most once");
    // Restored elsewhere (taken): the old owner's save at disconnect must not bring it back.
    await store.saveIfOwner(session("p1", "owner-a"), 60_000);
    assert.equal(await store.take("p1"), undefined);

    await store.save(session("p2", "owner-a"), 60_000);
    await store.saveIfOwner(session("p2", "owner-b", { name: "eve" }), 60_000);
    await store.remove("p2", "owner-b");
    await store.saveIfOwner(session("p2", "owner-a", { name: "ada 2" }), 60_000);
    assert.deepEqual(await store.take("p2"), session("p2", "owner-a", { name: "ada 2" }));

    await store.save(session("p3", "owner-a"), 60_000);
    await store.remove("p3", "owner-a");
    assert.equal(await store.take("p3"), undefined);
    assert.equal(await store.take("x".repeat(10_000)), undefined, "an absurd pid is not even looked up");
  });

  it("sessions expire after their ttl", async () => {
    await a.log.sessions.save(session("short", "owner-a"), 150);
    assert.equal(await probe.exists("socket.io-session#short"), 1);
    await waitUntil(async () => (await probe.exists("socket.io-session#short")) === 0, "the session expired");
    assert.equal(await a.log.sessions.take("short"), undefined);
  });

  it("refuses a session record over 64 KB (socket.data is the app's)", async () => {
    const big = session("big", "owner-a", { blob: Buffer.alloc(70 * 1024) });
    await assert.rejects(a.log.sessions.save(big, 60_000), /at most 65536/);
    await assert.rejects(a.log.sessions.saveIfOwner(big, 60_000), /at most 65536/);
    assert.equal(await probe.exists("socket.io-session#big"), 0);
    const binary = session("bin", "owner-a", { blob: Buffer.from("héllo") });
    await a.log.sessions.save(binary, 60_000);
    assert.deepEqual(await a.log.sessions.take("bin"), binary);
  });

  it("GatewayEmitter appends to the log when a gateway reads it, as a BROADCAST both readers receive", async () => {
    await markLogTransport(probe);
    const emitter = new GatewayEmitter({ redis: redis.url, timeout: 2000 });
    try {
      const before = a.entries.length;
      const receivers = await emitter
        .to("lobby")
        .except("muted")
        .emit("news", { title: "hi" }, Buffer.from([1, 2]));
      assert.equal(receivers, 2, "the two registered readers");
      const [[id, fields]] = await probe.xrevrangeBuffer(logStreamKey(), "+", "-", "COUNT", 1);
      assert.equal(fields[0].toString(), "message");
      const decoded = decode(fields[1]) as { uid: string; nsp: string; type: number; data: { packet: { data: unknown[] }; opts: unknown } };
      assert.deepEqual(decoded, {
        uid: "emitter",
        nsp: "/",
        type: MessageType.BROADCAST,
        data: { packet: { type: 2, data: ["news", { title: "hi" }, Buffer.from([1, 2])], nsp: "/" }, opts: { rooms: ["lobby"], except: ["muted"], flags: {} } },
      });
      await waitUntil(() => a.entries.length > before && b.entries.length > before, "both readers got the emitter's entry");
      assert.equal(a.entries[a.entries.length - 1].offset, id.toString());
      assert.equal(b.entries[b.entries.length - 1].message.uid, "emitter");
    } finally {
      await emitter.close();
    }
  });

  it("an emitter whose Redis user may only publish publishes, as before", async () => {
    await markLogTransport(probe);
    await probe.call("ACL", "SETUSER", "publisher", "on", ">pw", "resetchannels", "&*", "+publish", "+info", "+ping", "+client|setname");
    const emitter = new GatewayEmitter({ redis: `redis://publisher:pw@127.0.0.1:${redis.port}`, timeout: 2000 });
    try {
      assert.equal(await emitter.to("lobby").emit("news", "hi"), 0, "published (nobody subscribes in recovery mode)");
    } finally {
      await emitter.close();
    }
  });

  it("keeps its place when its connection is cut: what was appended meanwhile arrives, once, in order", async () => {
    const before = a.entries.length;
    const clients = await probe.client("LIST");
    const readerIds = [...String(clients).matchAll(/^id=(\d+) .* name=sio-gateway:log-reader:\d+ /gm)].map((match) => match[1]);
    assert.equal(readerIds.length, 2, "one reader connection per log");
    for (const id of readerIds) await probe.client("KILL", "ID", id);
    for (let n = 3000; n < 3050; n++) await probe.xadd(logStreamKey(), "*", ...messageFields(message("elsewhere", n)));
    await waitUntil(() => a.entries.length >= before + 50 && b.entries.length >= before + 50, "both readers got the 50 entries");
    const expected = Array.from({ length: 50 }, (_, i) => 3000 + i);
    assert.deepEqual(a.values().slice(before), expected);
    assert.deepEqual(b.values().slice(before), expected);
  });

  it("keeps its place through a Redis restart: appends fail meanwhile, later ones reach both readers", async () => {
    await redis.stop();
    await waitUntil(() => !a.log.isConnected(), "a noticed Redis is gone");
    await assert.rejects(a.log.append(message("uid-a", 2000)), /recovery log/);
    await redis.startProcess();
    await Promise.all([a.log.whenConnected(), b.log.whenConnected()]);
    await a.log.append(message("uid-a", 2001));
    await b.log.append(message("uid-b", 2002));
    await waitUntil(() => a.values().includes(2002) && b.values().includes(2001), "both readers got both appends after the restart");
    assert.deepEqual(a.values().slice(-2), b.values().slice(-2));
    assert.ok(!a.values().includes(2000));
  });
});

describe("recovery log on Redis: bounds", () => {
  let redis: RedisServer;
  let reader: Reader;
  let probe: Redis;

  before(async () => {
    redis = await RedisServer.start();
    probe = new Redis(redis.url);
    reader = await Reader.open(redis.url, { maxDisconnectionDuration: 60_000, maxEntries: 50 }, { interval: 100 });
  });

  after(async () => {
    await reader?.log.close();
    probe?.disconnect();
    await redis?.stop();
  });

  it("keeps about maxEntries entries, and an offset trimmed away is refused", async () => {
    const gaps: unknown[] = [];
    reader.log.on("gap", (...args) => gaps.push(args));
    for (let n = 0; n < 600; n++) await reader.log.append(message("uid", n));
    await waitUntil(() => reader.entries.length === 600, "the reader got all 600");
    const length = await probe.xlen(logStreamKey());
    // MAXLEN ~ trims whole nodes of the stream (stream-node-max-entries, 100 by default).
    assert.ok(length >= 50 && length <= 50 + 100, `XLEN ${length}`);
    assert.equal(await reader.log.readAfter(reader.entries[0].offset, 10), undefined);
    const kept = reader.entries[600 - 20].offset;
    assert.equal((await reader.log.readAfter(kept, 100))?.length, 19);
    assert.deepEqual(gaps, [], "a reader that kept up is not told it fell behind");
  });
});

describe("recovery log on Redis: a reader that falls behind", () => {
  let redis: RedisServer;
  let log: RedisOrderedLog;
  let probe: Redis;

  before(async () => {
    redis = await RedisServer.start();
    probe = new Redis(redis.url);
    log = new RedisOrderedLog(redis.url, { maxDisconnectionDuration: 60_000, maxEntries: 50 }, logger, { interval: 100 });
    await log.whenConnected();
  });

  after(async () => {
    await log?.close();
    probe?.disconnect();
    await redis?.stop();
  });

  it("reports the entries trimmed before it read them", async () => {
    // Not subscribed yet, so not reading: as far behind as a worker whose event loop is stuck.
    const gap = waitFor<[string, string]>(log, "gap");
    for (let n = 0; n < 300; n++) await probe.xadd(logStreamKey(), "MAXLEN", "~", 50, "*", ...messageFields(message("elsewhere", n)));
    const [after, firstKept] = await gap;
    assert.ok(log.compareOffsets(firstKept, after) > 0);
  });
});

describe("recovery log on Redis: bound by age", () => {
  let redis: RedisServer;
  let reader: Reader;
  let probe: Redis;

  before(async () => {
    redis = await RedisServer.start();
    probe = new Redis(redis.url);
    reader = await Reader.open(redis.url, { maxDisconnectionDuration: 300, maxEntries: 10_000 }, { interval: 100, slack: 0 });
  });

  after(async () => {
    await reader?.log.close();
    probe?.disconnect();
    await redis?.stop();
  });

  it("trims entries older than maxDisconnectionDuration (plus slack), and refuses their offsets", async () => {
    for (let n = 0; n < 3; n++) await reader.log.append(message("uid", n));
    await waitUntil(() => reader.entries.length === 3, "the reader got the 3 entries");
    assert.equal((await reader.log.readAfter(reader.entries[0].offset, 10))?.length, 2);
    await waitUntil(async () => (await probe.xlen(logStreamKey())) === 0, "the stream was trimmed by age");
    assert.equal(await reader.log.readAfter(reader.entries[0].offset, 10), undefined);
  });
});

describe("recovery log on Redis: a connection that goes silent", () => {
  let redis: RedisServer;
  let proxy: FreezingProxy;
  let reader: Reader;
  let probe: Redis;

  before(async () => {
    redis = await RedisServer.start();
    proxy = await FreezingProxy.start(redis.port);
    probe = new Redis(redis.url);
    reader = await Reader.open(proxy.url, BOUNDS, { interval: 500 });
  });

  after(async () => {
    await reader?.log.close();
    await proxy?.close();
    probe?.disconnect();
    await redis?.stop();
  });

  it("is cut and reconnected: the reader goes on from its place, appends go through again", async () => {
    await probe.xadd(logStreamKey(), "*", ...messageFields(message("elsewhere", 1)));
    await waitUntil(() => reader.values().includes(1), "the reader got entry 1");
    proxy.freeze();
    await probe.xadd(logStreamKey(), "*", ...messageFields(message("elsewhere", 2)));
    await waitUntil(() => reader.values().includes(2), "the reader got entry 2 after its connection froze", 20_000);
    await reader.log.append(message("uid", 3));
    await waitUntil(() => reader.values().includes(3), "the reader got its own entry 3", 20_000);
    assert.deepEqual(reader.values(), [1, 2, 3]);
  });

  it("an append whose answer was lost is sent again by ioredis: in the stream twice, delivered once", async () => {
    proxy.freezeReplies();
    const appended = reader.log.append(message("uid", 4));
    await waitUntil(async () => (await probe.xlen(logStreamKey())) === 4, "Redis ran the XADD (its answer is lost)");
    const offset = await appended; // resolved by the copy, once the stalled connection was cut
    await waitUntil(async () => (await probe.xlen(logStreamKey())) === 5, "the XADD was sent again", 20_000);
    await reader.log.append(message("uid", 5));
    await waitUntil(() => reader.values().includes(5), "the reader got entry 5", 20_000);
    assert.deepEqual(reader.values(), [1, 2, 3, 4, 5]);
    assert.notEqual(reader.entries[3].offset, offset, "the copy is the one dropped");
    assert.deepEqual((await reader.log.readAfter(reader.entries[2].offset, 10))?.map(valueOf), [4, 5]);
  });
});

describe("GatewayEmitter against a gateway in recovery mode", () => {
  let redis: RedisServer;
  let gateway: GatewayProcess;
  let probe: Redis;
  let clients: TestClient[] = [];
  let emitter: GatewayEmitter;

  before(async () => {
    redis = await RedisServer.start();
    gateway = await GatewayProcess.start(["--workers", "2", "--redis", redis.url]);
    probe = new Redis(redis.url);
    await waitUntil(async () => (await probe.get("socket.io-gateway#transport")) === "log", "the gateway marked the log transport");
    clients = await clientsPerWorker(gateway.url, 2, 1, { transports: ["websocket"] });
    for (const client of clients) await request(client.socket, "join", "lobby");
    emitter = new GatewayEmitter({ redis: redis.url, timeout: 2000 });
  });

  after(async () => {
    for (const client of clients) client.close();
    await emitter?.close();
    probe?.disconnect();
    await gateway?.stop();
    await redis?.stop();
  });

  it("delivers an emit to the room on both workers, with the log offset recovery adds, and socketsJoin", async () => {
    const arrivals = clients.map((client) => waitFor<unknown[]>(client.socket, "news"));
    assert.equal(await emitter.to("lobby").emit("news", { title: "hi" }), 2, "both workers read the log");
    for (const args of await Promise.all(arrivals)) {
      assert.deepEqual(args[0], { title: "hi" });
      assert.match(String(args[1]), /^\d+-\d+$/, "the offset a recovering client reports back");
    }
    await emitter.in("lobby").socketsJoin("extra");
    await waitUntil(async () => {
      const rooms = await Promise.all(clients.map((client) => request<{ rooms: string[] }>(client.socket, "whoami")));
      return rooms.every((who) => who.rooms.includes("extra"));
    }, "both clients joined the extra room");
  });
});
