import type { Server as HttpServer } from "node:http";
import { Socket as NetSocket } from "node:net";
import type { ConnectionMessage } from "../ipc.js";
import type { Logger } from "../logger.js";
import type { ClientAddresses } from "./client-address.js";

/**
 * Takes over a connection from the primary: the HTTP server gets the socket, then the bytes
 * the primary read are put back in front of what is still in the kernel's buffer. This runs
 * in the same tick as the socket's creation, before any read from the handle can land.
 * Returns the socket, or undefined when the message carried none.
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
  const bytes = Buffer.from(message.bytes.buffer, message.bytes.byteOffset, message.bytes.byteLength);
  server.emit("connection", handle);
  handle.unshift(bytes);
  handle.resume();
  return handle;
}
