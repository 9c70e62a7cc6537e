import { Counter } from "prom-client";
import type { Namespace, Server, Socket } from "socket.io";
import { valueOverLimits, type ValueLimits } from "../../common/bounded-value.js";

/** What a handshake's `auth` may hold: a token or a few fields, never a document. */
export const AUTH_LIMITS: ValueLimits = { maxChars: 8192, maxDepth: 8 };
/** What a handshake's query may hold (Engine.IO's own parameters included); the primary already caps a request target at 8192, worker ports at the header limit. */
export const QUERY_LIMITS: ValueLimits = { maxChars: 4096, maxDepth: 2 };

export type HandshakeRefusal = { reason: "auth" | "query"; message: string };

/**
 * Why a handshake is refused, or undefined. `auth` and the query are client data that Socket.IO
 * keeps on the socket for its whole life and that cluster-wide requests (`fetchSockets`) copy to
 * other processes: bounded here, before any app code or adapter sees them. A 20,000-level `auth`
 * once overflowed a worker's stack while its `fetchSockets` answer was serialized.
 */
export function handshakeRefusal(handshake: { auth: unknown; query: unknown }): HandshakeRefusal | undefined {
  const auth = valueOverLimits(handshake.auth, AUTH_LIMITS);
  if (auth) return { reason: "auth", message: `handshake auth ${auth}` };
  const query = valueOverLimits(handshake.query, QUERY_LIMITS);
  if (query) return { reason: "query", message: `handshake query ${query}` };
  return undefined;
}

/**
 * Refuses over-limit handshakes in every namespace, before the app's own middleware: the client
 * gets a `connect_error` whose message says which limit, and
 * `sio_gateway_handshakes_refused_total{reason}` counts it.
 */
export function guardHandshakes(io: Server): void {
  const refused = new Counter({
    name: "sio_gateway_handshakes_refused_total",
    help: "Socket.IO handshakes refused: auth or query over its limits",
    labelNames: ["reason"],
  });
  const guard = (socket: Socket, next: (error?: Error) => void): void => {
    const refusal = handshakeRefusal(socket.handshake);
    if (!refusal) return next();
    refused.inc({ reason: refusal.reason });
    next(new Error(refusal.message));
  };
  io.use(guard);
  io.on("new_namespace", (namespace: Namespace) => namespace.use(guard));
}
