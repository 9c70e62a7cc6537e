import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { decode } from "notepack.io";
import { MessageType } from "socket.io-adapter";
import { clusterStateOf, countClusterNodes } from "../../adapter/cluster-health.js";
import { encodePlain } from "../../adapter/emitter/plain-wire.js";
import { redisMajorVersion } from "../../adapter/pubsub-mode.js";
import { encodeSharded, hasBinary, shardedChannel } from "../../adapter/emitter/sharded-wire.js";

const target = (rooms: string[], except: string[] = []) => ({ namespace: "/", rooms, except });
/** A JSON payload, as the ClusterAdapter message it holds. */
const parseMessage = (payload: string | Buffer) => JSON.parse(payload as string) as { uid: string; nsp: string; type: MessageType; data: unknown };

describe("sharded wire format (what the emitter SPUBLISHes)", () => {
  it("sends a one-room broadcast on the room's own channel, anything else on the namespace's", () => {
    assert.equal(shardedChannel("socket.io", "/", ["game-42"]), "socket.io#/#game-42#");
    assert.equal(shardedChannel("socket.io", "/admin", ["a", "b"]), "socket.io#/admin#");
    assert.equal(shardedChannel("socket.io", "/", []), "socket.io#/#");
    // 20 characters: a socket id's private room, which the adapter never gives a channel of its own.
    assert.equal(shardedChannel("socket.io", "/", ["abcdefghij0123456789"]), "socket.io#/#");
  });

  it("encodes a broadcast as socket.io-adapter's ClusterAdapter message, as JSON", () => {
    const { channel, payload } = encodeSharded({ type: "broadcast", target: target(["red"], ["muted"]), event: "news", args: [{ n: 1 }, "x"] }, "socket.io");
    assert.equal(channel, "socket.io#/#red#");
    assert.deepEqual(JSON.parse(payload as string), {
      uid: "emitter",
      nsp: "/",
      type: MessageType.BROADCAST,
      data: { packet: { type: 2, data: ["news", { n: 1 }, "x"], nsp: "/" }, opts: { rooms: ["red"], except: ["muted"], flags: {} } },
    });
  });

  it("switches to msgpack when the arguments hold binary, keeping the bytes", () => {
    const bytes = Buffer.from([0, 1, 2, 255]);
    const { payload } = encodeSharded({ type: "broadcast", target: target([]), event: "file", args: [{ bytes }] }, "socket.io");
    assert.ok(Buffer.isBuffer(payload));
    const message = decode(payload) as { data: { packet: { data: [string, { bytes: Buffer }] } } };
    assert.deepEqual([...message.data.packet.data[1].bytes], [0, 1, 2, 255]);
  });

  it("encodes room membership, disconnection and server-side emits on the namespace channel", () => {
    const join = encodeSharded({ type: "join", target: target(["red"]), rooms: ["vip"] }, "socket.io");
    assert.equal(join.channel, "socket.io#/#");
    assert.deepEqual(parseMessage(join.payload).data, { opts: { rooms: ["red"], except: [] }, rooms: ["vip"] });
    assert.equal(parseMessage(encodeSharded({ type: "leave", target: target([]), rooms: ["vip"] }, "p").payload).type, MessageType.SOCKETS_LEAVE);
    const disconnect = parseMessage(encodeSharded({ type: "disconnect", target: target(["red"]), close: true }, "p").payload) as {
      type: MessageType;
      data: { close: boolean };
    };
    assert.deepEqual([disconnect.type, disconnect.data.close], [MessageType.DISCONNECT_SOCKETS, true]);
    const sse = encodeSharded({ type: "server-side-emit", namespace: "/admin", event: "announce", args: ["hi"] }, "socket.io");
    assert.equal(sse.channel, "socket.io#/admin#");
    assert.deepEqual(JSON.parse(sse.payload as string), {
      uid: "emitter",
      nsp: "/admin",
      type: MessageType.SERVER_SIDE_EMIT,
      data: { packet: ["announce", "hi"] },
    });
  });

  it("finds binary anywhere, and none in plain data", () => {
    assert.equal(hasBinary([1, { a: [new Uint8Array(1)] }]), true);
    assert.equal(hasBinary({ a: new ArrayBuffer(2) }), true);
    assert.equal(hasBinary({ a: [1, "x", null, { b: true }] }), false);
  });
});

describe("plain wire format (the stock @socket.io/redis-emitter's)", () => {
  it("publishes broadcasts on the namespace channel and requests on the request channel", () => {
    assert.equal(encodePlain({ type: "broadcast", target: target(["red"]), event: "news", args: [1] }, "socket.io").channel, "socket.io#/#red#");
    assert.equal(encodePlain({ type: "broadcast", target: target(["red", "blue"]), event: "news", args: [1] }, "socket.io").channel, "socket.io#/#");
    assert.equal(encodePlain({ type: "join", target: target([]), rooms: ["vip"] }, "socket.io").channel, "socket.io-request#/#");
  });
});

describe("Redis topology readings", () => {
  it("reads the version and the cluster state", () => {
    assert.equal(redisMajorVersion("# Server\r\nredis_version:7.0.15\r\nredis_git_sha1:0\r\n"), 7);
    assert.equal(redisMajorVersion("redis_version:6.2.1\n"), 6);
    assert.equal(redisMajorVersion("nothing"), 0);
    assert.equal(clusterStateOf("cluster_enabled:1\r\ncluster_state:ok\r\n"), "ok");
    assert.equal(clusterStateOf("cluster_state:fail\r\n"), "fail");
    assert.equal(clusterStateOf(""), "unknown");
  });

  it("counts live primaries with slots and replicas in CLUSTER NODES", () => {
    const nodes = [
      "a1 127.0.0.1:7000@17000 myself,master - 0 0 1 connected 0-5460",
      "a2 127.0.0.1:7001@17001 master - 0 0 2 connected 5461-10922",
      "a3 127.0.0.1:7002@17002 master,fail - 0 0 3 disconnected",
      "a4 127.0.0.1:7003@17003 master - 0 0 7 connected 10923-16383",
      "b1 127.0.0.1:7004@17004 slave a1 0 0 1 connected",
      "b2 127.0.0.1:7005@17005 slave,fail? a2 0 0 2 connected",
      "",
    ].join("\n");
    assert.deepEqual(countClusterNodes(nodes), { primaries: 3, replicas: 1 });
  });
});
