import type { Server as HttpServer } from "node:http";
import { Socket as NetSocket } from "node:net";
import type { ConnectionMessage, PeerName } from "../ipc.js";
import type { Logger } from "../logger.js";
import type { ClientAddresses } from "./client-address.js";
import { FrontDoor } from "./front-door.js";

/**
 * Takes over a connection from the primary: the HTTP server gets the socket, with the bytes the
 * primary read put back in front of anything read from the handle since. Returns the socket
 * (owned by this worker from now on), or undefined when the message carried none.
 *
 * The HTTP server gets it only after the event loop has polled once more (two setImmediate
 * turns: the handle arrives in the poll phase, and the first turn ends in the same iteration).
 * libuv adds a new handle to epoll when it polls next; served at once, the primary's bytes (a
 * whole request) were answered before this worker watched the socket, so a WebSocket client's
 * frames sent right after the 101 were read after requests that reached other connections
 * later. The Socket.IO protocol suite's "should ignore HTTP requests with same sid after
 * upgrade" failed one run in two that way, against never on a plain server, which watches a
 * socket from accept(). Meanwhile the paused socket only buffers what it reads, and `unshift`
 * puts the primary's bytes in front of it: the order of the bytes is kept.
 *
 * A connection handed over on accept (no bytes: the primary read nothing) has none of that
 * problem: it goes to the HTTP server at once, through the worker's front door (front-door.ts),
 * which applies the head limits the primary would have applied.
 */
export function adoptConnection(
  server: HttpServer,
  message: ConnectionMessage,
  handle: unknown,
  addresses: ClientAddresses,
  logger: Logger,
): NetSocket | undefined {
  if (!(handle instanceof NetSocket)) {
    logger.debug("connection message without a socket: dropped");
    return undefined;
  }
  addresses.remember(handle, message.ip);
  if (message.peer) presetPeerName(handle, message.peer);
  if (message.bytes === undefined) {
    const door = FrontDoor.of(server);
    if (door && !door.admit(handle)) return handle;
    server.emit("connection", handle);
    return handle;
  }
  const bytes = Buffer.from(message.bytes.buffer, message.bytes.byteOffset, message.bytes.byteLength);
  // Until the HTTP server has it (with its own error listener), a reset must not be an uncaught 'error'.
  const beforeAdoption = (error: Error): void => logger.debug({ err: error.message }, "connection failed before adoption");
  handle.on("error", beforeAdoption);
  const adopt = (): void => {
    handle.off("error", beforeAdoption);
    if (handle.destroyed) return;
    handle.unshift(bytes);
    server.emit("connection", handle);
    handle.resume();
  };
  setImmediate(() => setImmediate(adopt));
  return handle;
}

/**
 * Gives the worker's copy of a socket the peer the primary already read, so `remoteAddress`
 * (read by Engine.IO for every session) costs no getpeername system call here. net.Socket
 * caches its peer in `_peername` and asks the kernel only when it is unset (lib/net.js
 * `_getpeername`); should a Node release stop reading it, the cost comes back, nothing breaks
 * (test/unit/adopt-connection.test.ts pins it on the Node the suite runs on).
 */
export function presetPeerName(socket: NetSocket, peer: PeerName): void {
  (socket as unknown as { _peername?: PeerName })._peername = { address: peer.address, family: peer.family, port: peer.port };
}
