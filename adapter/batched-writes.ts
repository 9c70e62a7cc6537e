import { createRequire } from "node:module";

/**
 * One TCP write per batch of packets on a WebSocket, instead of one per packet.
 *
 * A broadcast to a socket whose previous write has not completed yet waits in its Engine.IO
 * write buffer; when that write completes, Engine.IO hands the WebSocket transport the whole
 * buffer (`send(packets)`), and the transport writes each packet as its own frame. Each frame is
 * then its own `writev` system call: a profile of 50 broadcasts to 10,000 sockets put 70 % of the
 * worker's time in `writev` (bench/RESULTS.fanout.md). Corking the TCP socket around the batch
 * sends the same frames, in the same order, with the same callbacks, in one call.
 *
 * Only Engine.IO's own WebSocket transport over `ws` is changed (the copy Socket.IO loads); an
 * app's `wsEngine` without a Node TCP socket under it (e.g. eiows) is left as it is, and a lone
 * packet is written as before (nothing to batch).
 */

interface CorkableSocket {
  cork(): void;
  uncork(): void;
}

interface WebSocketTransport {
  /** The `ws` WebSocket; `_socket` is its TCP socket. */
  socket?: { _socket?: Partial<CorkableSocket> };
  send: (this: WebSocketTransport, packets: unknown[]) => void;
}

let installed = false;

/** The WebSocket transport class of the engine.io that Socket.IO itself loads. */
function engineWebSocketTransport(): { prototype: WebSocketTransport } | undefined {
  const fromHere = createRequire(import.meta.url);
  const fromSocketIo = createRequire(fromHere.resolve("socket.io"));
  const engine = fromSocketIo("engine.io") as { transports?: { websocket?: { prototype: WebSocketTransport } } };
  return engine.transports?.websocket;
}

/** Installs the batching once per process; false when the transport is not found (nothing changed). */
export function batchWebSocketWrites(): boolean {
  if (installed) return true;
  const transport = engineWebSocketTransport();
  if (typeof transport?.prototype.send !== "function") return false;
  const send = transport.prototype.send;
  transport.prototype.send = function batchedSend(this: WebSocketTransport, packets: unknown[]): void {
    const tcp = packets.length > 1 ? this.socket?._socket : undefined;
    if (typeof tcp?.cork !== "function" || typeof tcp.uncork !== "function") return send.call(this, packets);
    tcp.cork();
    try {
      send.call(this, packets);
    } finally {
      tcp.uncork();
    }
  };
  installed = true;
  return true;
}
