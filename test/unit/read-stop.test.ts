import assert from "node:assert/strict";
import { once } from "node:events";
import { connect as connectTcp, createServer, Socket, type AddressInfo, type Server, type SocketConstructorOpts } from "node:net";
import { after, before, describe, it } from "node:test";
import { canStopHandle, stopHandle } from "../../gateway/primary/read-stop.js";

/**
 * Pins the one private Node API the gateway relies on (`socket._handle.readStop()`): a failure
 * here names the Node version that broke it.
 */
const node = `Node ${process.version}`;

let server: Server;
const opened: Socket[] = [];

/** A loopback connection: `accepted` is the server's side (paused on connect, as in the primary), `client` the peer. */
async function connect(): Promise<{ accepted: Socket; client: Socket }> {
  const accepting = once(server, "connection") as Promise<[Socket]>;
  const client = connectTcp((server.address() as AddressInfo).port, "127.0.0.1");
  const [[accepted]] = await Promise.all([accepting, once(client, "connect")]);
  opened.push(accepted, client);
  return { accepted, client };
}

/** Writes `data` and resolves once it was handed to the kernel (on loopback: in the peer's receive buffer). */
function write(socket: Socket, data: Buffer): Promise<void> {
  return new Promise((resolve, reject) => socket.write(data, (error) => (error ? reject(error) : resolve())));
}

/** Resolves with the next `length` bytes `socket` emits. */
function collect(socket: Socket, length: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let total = 0;
    const onData = (chunk: Buffer): void => {
      chunks.push(chunk);
      total += chunk.length;
      if (total < length) return;
      socket.off("data", onData).off("error", reject);
      resolve(Buffer.concat(chunks));
    };
    socket.on("data", onData).once("error", reject);
  });
}

/**
 * Several event-loop turns with real I/O (two ping-pongs on a second connection): had the
 * handle still been reading, libuv would have read bytes already in its kernel buffer by now.
 */
async function roundTrips(): Promise<void> {
  const { accepted, client } = await connect();
  accepted.on("data", (chunk: Buffer) => accepted.write(chunk));
  accepted.resume();
  for (const ping of ["ping-1", "ping-2"]) {
    const echoed = collect(client, ping.length);
    client.write(ping);
    assert.equal((await echoed).toString(), ping);
  }
}

/** Moves the socket's handle to a new Socket, as child_process does when the primary sends a socket to a worker. */
function adoptHandle(socket: Socket): Socket {
  const owner = socket as unknown as { _handle: unknown };
  const handle = owner._handle;
  owner._handle = null;
  const adopted = new Socket({ handle, readable: true, writable: true } as SocketConstructorOpts);
  opened.push(adopted);
  return adopted;
}

describe(`read-stop on ${node}`, () => {
  before(async () => {
    server = createServer({ pauseOnConnect: true });
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
  });

  after(async () => {
    for (const socket of opened) socket.destroy();
    server.close();
    await once(server, "close");
  });

  it(`canStopHandle is true for connected TCP sockets on ${node}`, async () => {
    const { accepted, client } = await connect();
    assert.equal(canStopHandle(accepted), true, `${node}: the accepted socket has no _handle with readStop() and reading`);
    assert.equal(canStopHandle(client), true, `${node}: the client socket has no _handle with readStop() and reading`);
  });

  it("canStopHandle is false for a socket without a handle, and stopHandle leaves it alone", () => {
    const unconnected = new Socket();
    assert.equal(canStopHandle(unconnected), false);
    assert.doesNotThrow(() => stopHandle(unconnected));
  });

  it(`after stopHandle the peer's bytes stay in the kernel for whoever reads the handle next (${node})`, async () => {
    const { accepted, client } = await connect();
    accepted.resume();
    await once(accepted, "resume"); // resume() starts the handle's reads on the next tick
    stopHandle(accepted);
    accepted.pause();

    const payload = Buffer.from(Array.from({ length: 3000 }, (_, i) => (i * 13) % 256));
    await write(client, payload.subarray(0, 1000));
    await write(client, payload.subarray(1000));
    await roundTrips();
    assert.equal(accepted.readableLength, 0, `${node}: the handle kept reading after stopHandle()`);

    const adopted = adoptHandle(accepted);
    assert.deepEqual(await collect(adopted, payload.length), payload, `${node}: bytes lost or altered after stopHandle()`);
  });
});
