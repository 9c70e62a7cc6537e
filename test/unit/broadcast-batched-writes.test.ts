import assert from "node:assert/strict";
import { once } from "node:events";
import { createServer, type Server as HttpServer } from "node:http";
import type { AddressInfo, Socket as NetSocket } from "node:net";
import { after, before, describe, it } from "node:test";
import { Server } from "socket.io";
import { io as connectClient, type Socket as ClientSocket } from "socket.io-client";
import { waitFor } from "../helpers/wait.js";
import { batchWebSocketWrites } from "../../adapter/batched-writes.js";

const BURST = 200;

describe("batched WebSocket writes on a live server", () => {
  let http: HttpServer;
  let io: Server;
  let websocket: ClientSocket;
  let polling: ClientSocket;
  /** TCP writes (write or writev calls) on the server side of the WebSocket client's connection. */
  let tcpWrites = 0;

  before(async () => {
    assert.equal(batchWebSocketWrites(), true);
    assert.equal(batchWebSocketWrites(), true, "a second call changes nothing");
    http = createServer();
    io = new Server(http);
    io.on("connection", (socket) => {
      socket.on("burst", (room: string) => {
        for (let i = 0; i < BURST; i++) io.to(room).emit("n", i, "x".repeat(i % 7));
      });
      socket.on("join", (room: string, done: (room: string) => void) => void Promise.resolve(socket.join(room)).then(() => done(room)));
    });
    http.listen(0, "127.0.0.1");
    await once(http, "listening");
    const url = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
    websocket = connectClient(url, { transports: ["websocket"], forceNew: true, reconnection: false });
    polling = connectClient(url, { transports: ["polling"], forceNew: true, reconnection: false });
    await Promise.all([waitFor(websocket, "connect"), waitFor(polling, "connect")]);
    await Promise.all([websocket.emitWithAck("join", "ws"), polling.emitWithAck("join", "polling")]);
    // Count the writes that reach the TCP socket under the WebSocket client's connection (Node's
    // Writable calls _write for one chunk and _writev for several).
    const conn = io.of("/").sockets.get(websocket.id!)!.conn as unknown as { transport: { socket: { _socket: NetSocket } } };
    const tcp = conn.transport.socket._socket as NetSocket & { _write: (...args: unknown[]) => void; _writev: (...args: unknown[]) => void };
    for (const method of ["_write", "_writev"] as const) {
      const original = tcp[method].bind(tcp);
      tcp[method] = (...args: unknown[]) => {
        tcpWrites++;
        original(...args);
      };
    }
  });

  after(async () => {
    websocket.disconnect();
    polling.disconnect();
    await io.close();
  });

  /** Collects `BURST` "n" events on `client`, in arrival order. */
  function receiveBurst(client: ClientSocket): Promise<[number, string][]> {
    const received: [number, string][] = [];
    return new Promise((resolve) => {
      const onEvent = (i: number, pad: string): void => {
        received.push([i, pad]);
        if (received.length < BURST) return;
        client.off("n", onEvent);
        resolve(received);
      };
      client.on("n", onEvent);
    });
  }

  const expected = Array.from({ length: BURST }, (_, i): [number, string] => [i, "x".repeat(i % 7)]);

  it("delivers a burst over WebSocket complete and in order, in far fewer TCP writes than packets", async () => {
    tcpWrites = 0;
    const received = receiveBurst(websocket);
    websocket.emit("burst", "ws");
    assert.deepEqual(await received, expected);
    // Unbatched, every frame is a write of its own (BURST writes); batched, the first broadcast goes
    // out at once and the rest wait in Engine.IO's buffer, then leave together.
    assert.ok(tcpWrites < BURST / 10, `${tcpWrites} TCP writes for ${BURST} packets`);
  });

  it("leaves long-polling alone: the burst arrives complete and in order", async () => {
    const received = receiveBurst(polling);
    websocket.emit("burst", "polling");
    assert.deepEqual(await received, expected);
  });

  it("keeps the connection usable after a burst (acknowledgements still round-trip)", async () => {
    assert.equal(await websocket.emitWithAck("join", "again"), "again");
  });
});

describe("batched WebSocket writes with per-message deflate (frames compressed asynchronously)", () => {
  let http: HttpServer;
  let io: Server;
  let client: ClientSocket;

  before(async () => {
    batchWebSocketWrites();
    http = createServer();
    io = new Server(http, { perMessageDeflate: { threshold: 0 } });
    io.on("connection", (socket) => {
      socket.on("burst", () => {
        // socket.emit, not a broadcast: broadcasts go out as pre-encoded, uncompressed frames,
        // while these go through ws' send(), compressed off the main thread.
        for (let i = 0; i < BURST; i++) socket.emit("n", i, "y".repeat(i % 50));
      });
    });
    http.listen(0, "127.0.0.1");
    await once(http, "listening");
    client = connectClient(`http://127.0.0.1:${(http.address() as AddressInfo).port}`, { transports: ["websocket"], forceNew: true, reconnection: false });
    await waitFor(client, "connect");
  });

  after(async () => {
    client.disconnect();
    await io.close();
  });

  it("delivers a burst complete and in order", async () => {
    const conn = io.of("/").sockets.get(client.id!)!.conn as unknown as { transport: { socket: { _extensions: Record<string, unknown> } } };
    assert.ok(conn.transport.socket._extensions["permessage-deflate"], "deflate negotiated");
    const received: [number, string][] = [];
    const all = new Promise<void>((resolve) => {
      client.on("n", (i: number, pad: string) => {
        received.push([i, pad]);
        if (received.length === BURST) resolve();
      });
    });
    client.emit("burst");
    await all;
    assert.deepEqual(
      received,
      Array.from({ length: BURST }, (_, i) => [i, "y".repeat(i % 50)]),
    );
  });
});
