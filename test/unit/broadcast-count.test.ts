import assert from "node:assert/strict";
import { once } from "node:events";
import { createServer, type Server as HttpServer } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import { Server } from "socket.io";
import { Adapter } from "socket.io-adapter";
import { io as connectClient, type Socket as ClientSocket } from "socket.io-client";
import { waitFor } from "../helpers/wait.js";
import { countBroadcasts, countDeliveries, inMemoryAdapterPrototype } from "../../gateway/worker/broadcast-count.js";

describe("inMemoryAdapterPrototype", () => {
  it("finds socket.io-adapter's Adapter.prototype in a live adapter's chain", () => {
    // Not attached to an HTTP server, this Server opens nothing (and its close() would throw without an engine).
    const io = new Server();
    assert.equal(inMemoryAdapterPrototype(io.of("/").adapter), Adapter.prototype);
  });

  it("is undefined for an object without one", () => {
    assert.equal(inMemoryAdapterPrototype({ broadcast() {} }), undefined);
    assert.equal(
      countDeliveries({}, () => {}),
      false,
    );
  });
});

describe("counting on a live server", () => {
  let http: HttpServer;
  let io: Server;
  let clients: ClientSocket[];
  const deliveries: number[] = [];
  let broadcasts = 0;

  before(async () => {
    http = createServer();
    io = new Server(http);
    io.on("connection", (socket) => {
      socket.on("join", (room: string, done: () => void) => void Promise.resolve(socket.join(room)).then(done));
    });
    assert.equal(
      countDeliveries(io.of("/").adapter, (recipients) => deliveries.push(recipients)),
      true,
    );
    countBroadcasts(io, () => broadcasts++);
    http.listen(0, "127.0.0.1");
    await once(http, "listening");
    const url = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
    clients = [0, 1, 2].map(() => connectClient(url, { transports: ["websocket"], forceNew: true, reconnection: false }));
    await Promise.all(clients.map((client) => waitFor(client, "connect")));
    await Promise.all(clients.slice(0, 2).map((client) => client.emitWithAck("join", "room")));
  });

  after(async () => {
    for (const client of clients) client.disconnect();
    await io.close();
  });

  it("reports each broadcast's recipients, and still delivers it", async () => {
    const [a, b, c] = clients;
    deliveries.length = 0;
    const arrivals = [a, b].map((client) => waitFor(client, "x"));
    const cSeen: string[] = [];
    c.on("x", () => cSeen.push("x"));
    io.to("room").emit("x");
    assert.deepEqual(deliveries, [2]);
    await Promise.all(arrivals);

    const everyone = clients.map((client) => waitFor(client, "y"));
    io.emit("y");
    assert.deepEqual(deliveries, [2, 3]);
    await Promise.all(everyone);
    assert.deepEqual(cSeen, [], "the client outside the room got the room's event"); // "y" came after, on the same connection
    c.off("x");
  });

  it("does not count fetchSockets(), which also goes through apply()", async () => {
    deliveries.length = 0;
    const sockets = await io.in("room").fetchSockets();
    assert.equal(sockets.length, 2);
    assert.deepEqual(deliveries, []);
  });

  it("counts broadcasts started here, in namespaces created later too, but not direct emits", async () => {
    broadcasts = 0;
    io.emit("a");
    io.to("room").emit("b");
    io.of("/other").emit("c");
    io.of("/other").to("room").emit("d");
    assert.equal(broadcasts, 4);

    const [server] = await io.fetchSockets();
    const direct = waitFor(
      clients.find((client) => client.id === server.id)!,
      "e",
    );
    server.emit("e");
    await direct;
    assert.equal(broadcasts, 4);
  });
});
