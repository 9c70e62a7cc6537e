import type { IncomingMessage } from "node:http";
import type { Socket as NetSocket } from "node:net";
import type { Server } from "socket.io";
import { clientIp, normalizeIp, trustedProxies } from "../client-ip.js";

/**
 * Makes `socket.handshake.address` the client IP the gateway routed by, not the address of the
 * proxy in front of it: for connections the primary handed over, the IP it resolved (sent with
 * the socket); for connections on the worker's own port (a direct upstream of Nginx), the same
 * rule applied here (forwarded headers only from `--trust-proxy` peers).
 *
 * Socket.IO builds the handshake from the Engine.IO connection's `remoteAddress` when the
 * client's CONNECT packet arrives, which is always after Engine.IO's `connection` event; so
 * setting it there is enough, and nothing else of the connection is touched.
 */
export class ClientAddresses {
  private readonly handedOver = new WeakMap<NetSocket, string>();
  private readonly trusted: ReturnType<typeof trustedProxies>;

  constructor(trustProxy: readonly string[]) {
    this.trusted = trustedProxies(trustProxy);
  }

  /** Remembers the IP the primary resolved for a socket it handed over. */
  remember(socket: NetSocket, ip: string): void {
    this.handedOver.set(socket, ip);
  }

  /** The client IP of a request: the primary's word for handed-over sockets, else resolved here. */
  of(request: IncomingMessage): string {
    const socket = request.socket;
    const known = this.handedOver.get(socket);
    if (known !== undefined) return known;
    const headers = new Map<string, string>();
    for (const name of ["x-forwarded-for", "x-real-ip"]) {
      const value = request.headers[name];
      if (value !== undefined) headers.set(name, Array.isArray(value) ? value.join(", ") : value);
    }
    return clientIp(normalizeIp(socket.remoteAddress ?? ""), headers, this.trusted);
  }

  /** Sets every new Engine.IO connection's `remoteAddress` (read by Socket.IO for `handshake.address`). */
  attach(io: Server): void {
    io.engine.on("connection", (connection: { request: IncomingMessage; remoteAddress: string }) => {
      connection.remoteAddress = this.of(connection.request);
    });
  }
}
