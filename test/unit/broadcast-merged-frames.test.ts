import assert from "node:assert/strict";
import { once } from "node:events";
import { createServer, type Server as HttpServer } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import { Server } from "socket.io";
import { WebSocket } from "ws";
import { mergePreEncodedFrames } from "../../adapter/merged-frames.js";

/** A raw WebSocket client that has joined the namespace "/": sees every message as the server framed it. */
async function rawClient(port: number): Promise<{ ws: WebSocket; next: () => Promise<string> }> {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/socket.io/?EIO=4&transport=websocket`);
  const queue: string[] = [];
  const waiting: ((message: string) => void)[] = [];
  ws.on("message", (data: Buffer) => {
    const message = data.toString();
    if (message === "2") return ws.send("3");
    if (message.startsWith("0")) return ws.send("40");
    const waiter = waiting.shift();
    if (waiter) waiter(message);
    else queue.push(message);
  });
  const next = (): Promise<string> => {
    const queued = queue.shift();
    return queued !== undefined ? Promise.resolve(queued) : new Promise((resolve) => waiting.push(resolve));
  };
  assert.match(await next(), /^40/);
  return { ws, next };
}

describe("merged broadcast frames", () => {
  let http: HttpServer;
  let io: Server;
  let client: { ws: WebSocket; next: () => Promise<string> };

  before(async () => {
    assert.equal(mergePreEncodedFrames(), true);
    assert.equal(mergePreEncodedFrames(), true, "a second call changes nothing");
    http = createServer();
    io = new Server(http);
    http.listen(0, "127.0.0.1");
    await once(http, "listening");
    client = await rawClient((http.address() as AddressInfo).port);
  });

  after(async () => {
    client.ws.terminate();
    await io.close();
  });

  it("encodes a broadcast's WebSocket frame as one buffer with the frame's bytes", () => {
    const adapter = io.of("/").adapter as unknown as { _encode: (packet: object, opts: { wsPreEncodedFrame?: Buffer[] }) => unknown };
    const opts: { wsPreEncodedFrame?: Buffer[] } = {};
    adapter._encode({ type: 2, data: ["e", 1], nsp: "/" }, opts);
    assert.equal(opts.wsPreEncodedFrame?.length, 1);
    const payload = Buffer.from('42["e",1]');
    // FIN + text opcode, unmasked 7-bit length, then the payload.
    assert.deepEqual(opts.wsPreEncodedFrame[0], Buffer.concat([Buffer.from([0x81, payload.length]), payload]));
  });

  for (const length of [10, 200, 70_000]) {
    // 7-bit, 16-bit and 64-bit WebSocket payload lengths.
    it(`delivers a broadcast of ${length} characters intact`, async () => {
      const text = "z".repeat(length);
      const received = client.next();
      io.emit("e", text);
      assert.equal(await received, `42${JSON.stringify(["e", text])}`);
    });
  }

  it("delivers a room broadcast and a burst in order", async () => {
    const sid = [...io.of("/").sockets.keys()][0];
    await io.of("/").sockets.get(sid)!.join("room");
    for (let i = 0; i < 50; i++) io.to("room").emit("n", i);
    for (let i = 0; i < 50; i++) assert.equal(await client.next(), `42["n",${i}]`);
  });
});
