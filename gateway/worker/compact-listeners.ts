import type { Socket } from "socket.io";

/**
 * Shrinks what an idle connection's event emitters hold, without changing a listener.
 *
 * Node's EventEmitter keeps its listeners in `_events`, a null-prototype object. Once a listener
 * was removed from it (`delete`), V8 turns that object into a hash table (dictionary mode): the
 * ws WebSocket, the Engine.IO transport and socket, and the TCP socket each remove a few during
 * the handshake and keep a 200-300 B table for the whole life of the connection. And an event's
 * listener array, grown by `push`, keeps room for 16 more. A copy with the same keys and values
 * in the same order is a plain (fast) object and exact-size arrays: about 1 KB less per idle
 * connection (bench/RESULTS.memory.md). Emitting, adding and removing listeners work as before
 * (a later removal just turns the copy into a table again).
 *
 * Only objects that are EventEmitters by their own `_events`, and arrays of listeners, are
 * touched; nothing else of Socket.IO, Engine.IO or ws is.
 */
export function compactEmitter(emitter: unknown): void {
  if (typeof emitter !== "object" || emitter === null) return;
  const holder = emitter as { _events?: unknown };
  const events = holder._events;
  if (typeof events !== "object" || events === null || Object.getPrototypeOf(events) !== null) return;
  const copy: Record<string | symbol, unknown> = {};
  for (const key of Reflect.ownKeys(events)) {
    const value = (events as Record<string | symbol, unknown>)[key];
    copy[key] = Array.isArray(value) ? exactCopy(value) : value;
  }
  Object.setPrototypeOf(copy, null);
  holder._events = copy;
}

/**
 * An exact-size copy of an array with its own extra properties too: Node 24's EventEmitter keeps a
 * counter on each listener array (`Symbol(events.emitting)`: copy-on-write while it emits) and a
 * `warned` flag; a copy without the counter would let a listener removed during an emit shift the
 * array under the loop (the next listener skipped).
 *
 * Extra properties are read as symbols plus `warned` (the only string-named one Node's events
 * module sets, lib/events.js), not by walking every own key: `Reflect.ownKeys` made a string per
 * index, a third of a connection's compaction time in a connect storm (bench/RESULTS.handoff.md).
 */
function exactCopy(array: unknown[]): unknown[] {
  const copy = array.slice();
  const from = array as unknown as Record<string | symbol, unknown>;
  const to = copy as unknown as Record<string | symbol, unknown>;
  for (const key of Object.getOwnPropertySymbols(array)) to[key] = from[key];
  if (Object.hasOwn(array, "warned")) to.warned = from.warned;
  return copy;
}

/** Replaces `holder[key]`, when it is an array, by an exact-size copy (same elements, same order). */
function compactArray(holder: unknown, key: string): void {
  if (typeof holder !== "object" || holder === null) return;
  const record = holder as Record<string, unknown>;
  const value = record[key];
  if (Array.isArray(value)) record[key] = exactCopy(value);
}

/** Replaces every listener array of a component-emitter (socket.io-parser's Decoder) by an exact-size copy. */
function compactCallbacks(emitter: unknown): void {
  const callbacks = (emitter as { _callbacks?: unknown } | undefined)?._callbacks;
  if (typeof callbacks !== "object" || callbacks === null) return;
  for (const key of Object.keys(callbacks)) compactArray(callbacks, key);
}

/** The emitters behind one Socket.IO socket, down to its TCP socket. */
interface ConnectionParts {
  client?: { decoder?: unknown };
  conn?: {
    request?: unknown;
    transport?: { socket?: { _receiver?: unknown; _socket?: unknown } };
  };
}

/**
 * Compacts the emitters of a Socket.IO socket and of the connection under it (Engine.IO socket
 * and transport, ws WebSocket and its receiver, the TCP socket, the handshake request), and the
 * lists that `push` grew during the handshake: the socket's middlewares (`use`), the Engine.IO
 * socket's clean-up functions, the packet decoder's listeners. Meant to run once the app's
 * `connection` handlers have added their listeners and middlewares.
 */
export function compactConnection(socket: Socket): void {
  const { conn, client } = socket as unknown as ConnectionParts;
  compactEmitter(socket);
  compactArray(socket, "fns");
  compactCallbacks(client?.decoder);
  if (!conn) return;
  compactEmitter(conn);
  compactArray(conn, "cleanupFn");
  compactEmitter(conn.request);
  const transport = conn.transport;
  compactEmitter(transport);
  const ws = transport?.socket;
  compactEmitter(ws);
  compactEmitter(ws?._receiver);
  compactEmitter(ws?._socket);
}
