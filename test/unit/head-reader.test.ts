import assert from "node:assert/strict";
import { once } from "node:events";
import type { Socket } from "node:net";
import { after, before, describe, it } from "node:test";
import { collect, LoopbackSockets, write } from "../helpers/loopback-sockets.js";
import { readRequestHead } from "../../gateway/primary/head-reader.js";
import { refuseConnection } from "../../gateway/primary/responses.js";

const limits = { headerTimeout: 10_000, maxHeaderSize: 16_384 };

const sockets = new LoopbackSockets();
const connect = (): ReturnType<LoopbackSockets["connect"]> => sockets.connect();
const roundTrips = (): Promise<void> => sockets.roundTrips();
const adoptHandle = (socket: Socket): Socket => sockets.adoptHandle(socket);

describe("readRequestHead", () => {
  before(() => sockets.start());

  after(() => sockets.stop());

  it("reads a head sent in one write, with exactly the bytes sent", async () => {
    const { accepted, client } = await connect();
    const request = "GET /socket.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: a\r\nX-Forwarded-For: 1.1.1.1\r\n\r\n";
    const reading = readRequestHead(accepted, limits);
    client.write(request);
    const result = await reading;
    assert.equal(result.kind, "head");
    assert.equal(result.head.method, "GET");
    assert.equal(result.head.target, "/socket.io/?EIO=4&transport=polling");
    assert.equal(result.head.headers.get("x-forwarded-for"), "1.1.1.1");
    assert.deepEqual(result.bytes, Buffer.from(request));
  });

  it("waits for a head split across several writes", async () => {
    const { accepted, client } = await connect();
    const parts = ["GET /socket.io/?EIO=4 HT", "TP/1.1\r\nHost: a\r\n", "Cookie: c=1\r\n\r\n"];
    let settled = false;
    const reading = readRequestHead(accepted, limits).finally(() => (settled = true));
    for (const part of parts.slice(0, -1)) {
      const seen = once(accepted, "data");
      client.write(part);
      await seen;
      assert.equal(settled, false, `resolved after ${JSON.stringify(part)}`);
    }
    client.write(parts[parts.length - 1]);
    const result = await reading;
    assert.equal(result.kind, "head");
    assert.equal(result.head.headers.get("cookie"), "c=1");
    assert.deepEqual(result.bytes, Buffer.from(parts.join("")));
  });

  it("includes body bytes that came in the same write as the head", async () => {
    const { accepted, client } = await connect();
    const request = 'POST /socket.io/?EIO=4&transport=polling&sid=1_x HTTP/1.1\r\nContent-Length: 9\r\n\r\n42["a",1]';
    const reading = readRequestHead(accepted, limits);
    client.write(request);
    const result = await reading;
    assert.equal(result.kind, "head");
    assert.equal(result.head.method, "POST");
    assert.deepEqual(result.bytes, Buffer.from(request));
  });

  it("leaves what the client sends after the head in the kernel, for the worker that gets the handle", async () => {
    const { accepted, client } = await connect();
    const head = "POST /socket.io/?EIO=4&transport=polling HTTP/1.1\r\nContent-Length: 4000\r\n\r\n";
    const reading = readRequestHead(accepted, limits);
    client.write(head);
    const result = await reading;
    assert.equal(result.kind, "head");
    assert.deepEqual(result.bytes, Buffer.from(head));

    const body = Buffer.from(Array.from({ length: 4000 }, (_, i) => (i * 7) % 256));
    await write(client, body.subarray(0, 1000));
    await write(client, body.subarray(1000));
    await roundTrips();
    assert.equal(accepted.readableLength, 0, "the handle kept reading after the head");

    const adopted = adoptHandle(accepted);
    assert.deepEqual(await collect(adopted, body.length), body);
  });

  it("lets refuseConnection() see the client's FIN after a result, so a refused socket closes when the client does", async () => {
    const { accepted, client } = await connect();
    const reading = readRequestHead(accepted, limits);
    client.write(Buffer.from([0x16, 0x03, 0x01]));
    assert.equal((await reading).kind, "invalid");

    let sawFin = false;
    accepted.once("end", () => (sawFin = true));
    const closed = once(accepted, "close");
    const response = collect(client, "HTTP/1.1 400".length);
    refuseConnection(accepted, 400, "not HTTP");
    assert.equal((await response).toString("latin1", 0, 12), "HTTP/1.1 400");
    client.end();
    await closed;
    assert.equal(sawFin, true, "the refused socket was closed without reading the client's FIN");
  });

  it("refuses what is not HTTP (a TLS ClientHello) as invalid", async () => {
    const { accepted, client } = await connect();
    const reading = readRequestHead(accepted, limits);
    client.write(Buffer.from([0x16, 0x03, 0x01]));
    const result = await reading;
    assert.equal(result.kind, "invalid");
    assert.deepEqual(result.bytes, Buffer.from([0x16, 0x03, 0x01]));
  });

  it("gives up on a head longer than maxHeaderSize as too-large", async () => {
    const { accepted, client } = await connect();
    const sent = Buffer.from(`GET /${"a".repeat(200)}`);
    const reading = readRequestHead(accepted, { headerTimeout: 10_000, maxHeaderSize: 64 });
    client.write(sent);
    const result = await reading;
    assert.equal(result.kind, "too-large");
    assert.ok(result.bytes.length >= 64, `read only ${result.bytes.length} bytes`);
    assert.deepEqual(result.bytes, sent.subarray(0, result.bytes.length));
  });

  it("times out when the head does not come within headerTimeout, with the bytes so far", async () => {
    const silent = await connect();
    const started = performance.now();
    const nothing = await readRequestHead(silent.accepted, { headerTimeout: 200, maxHeaderSize: 16_384 });
    assert.equal(nothing.kind, "timeout");
    assert.ok(performance.now() - started >= 190, "timed out early");
    assert.deepEqual(nothing.bytes, Buffer.alloc(0));

    const { accepted, client } = await connect();
    const reading = readRequestHead(accepted, { headerTimeout: 200, maxHeaderSize: 16_384 });
    const seen = once(accepted, "data");
    client.write("GET / HTTP/1.1\r\n");
    await seen;
    const partial = await reading;
    assert.equal(partial.kind, "timeout");
    assert.deepEqual(partial.bytes, Buffer.from("GET / HTTP/1.1\r\n"));
  });

  it("reports closed when the client goes away before the head is complete", async () => {
    const { accepted, client } = await connect();
    const reading = readRequestHead(accepted, limits);
    client.end("GET / HTTP/1.1\r\nHost: a\r\n");
    assert.deepEqual(await reading, { kind: "closed" });
  });
});
