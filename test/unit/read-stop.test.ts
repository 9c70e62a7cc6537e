import assert from "node:assert/strict";
import { once } from "node:events";
import { Socket } from "node:net";
import { after, before, describe, it } from "node:test";
import { collect, LoopbackSockets, write } from "../helpers/loopback-sockets.js";
import { canStopHandle, stopHandle } from "../../gateway/primary/read-stop.js";

/**
 * Pins the one private Node API the gateway relies on (`socket._handle.readStop()`): a failure
 * here names the Node version that broke it.
 */
const node = `Node ${process.version}`;

const sockets = new LoopbackSockets();
const connect = (): ReturnType<LoopbackSockets["connect"]> => sockets.connect();
const roundTrips = (): Promise<void> => sockets.roundTrips();
const adoptHandle = (socket: Socket): Socket => sockets.adoptHandle(socket);

describe(`read-stop on ${node}`, () => {
  before(() => sockets.start());

  after(() => sockets.stop());

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
