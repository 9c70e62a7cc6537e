import assert from "node:assert/strict";
import { once } from "node:events";
import { connect as connectTcp, createServer, Socket, type AddressInfo, type Server, type SocketConstructorOpts } from "node:net";

/**
 * Real loopback TCP connections for the unit tests of the primary's socket handling (head
 * reader, libuv readStop): a server paused on connect, as the primary's is, and its peers.
 */
export class LoopbackSockets {
  private server: Server | undefined;
  private readonly opened: Socket[] = [];

  async start(): Promise<void> {
    this.server = createServer({ pauseOnConnect: true });
    this.server.listen(0, "127.0.0.1");
    await once(this.server, "listening");
  }

  async stop(): Promise<void> {
    for (const socket of this.opened) socket.destroy();
    this.server?.close();
    if (this.server) await once(this.server, "close");
  }

  /** A loopback connection: `accepted` is the server's side (paused on connect, as in the primary), `client` the peer. */
  async connect(): Promise<{ accepted: Socket; client: Socket }> {
    const accepting = once(this.server!, "connection") as Promise<[Socket]>;
    const client = connectTcp((this.server!.address() as AddressInfo).port, "127.0.0.1");
    const [[accepted]] = await Promise.all([accepting, once(client, "connect")]);
    this.opened.push(accepted, client);
    return { accepted, client };
  }

  /**
   * Several event-loop turns with real I/O (two ping-pongs on a second connection): had a
   * handle still been reading, libuv would have read bytes already in its kernel buffer by now.
   */
  async roundTrips(): Promise<void> {
    const { accepted, client } = await this.connect();
    accepted.on("data", (chunk: Buffer) => accepted.write(chunk));
    accepted.resume();
    for (const ping of ["ping-1", "ping-2"]) {
      const echoed = collect(client, ping.length);
      client.write(ping);
      assert.equal((await echoed).toString(), ping);
    }
  }

  /** Moves the socket's handle to a new Socket, as child_process does when the primary sends a socket to a worker. */
  adoptHandle(socket: Socket): Socket {
    const owner = socket as unknown as { _handle: unknown };
    const handle = owner._handle;
    owner._handle = null;
    const adopted = new Socket({ handle, readable: true, writable: true } as SocketConstructorOpts);
    this.opened.push(adopted);
    return adopted;
  }
}

/** Writes `data` and resolves once it was handed to the kernel (on loopback: in the peer's receive buffer). */
export function write(socket: Socket, data: Buffer): Promise<void> {
  return new Promise((resolve, reject) => socket.write(data, (error) => (error ? reject(error) : resolve())));
}

/** Resolves with the next `length` bytes `socket` emits. */
export function collect(socket: Socket, length: number): Promise<Buffer> {
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
