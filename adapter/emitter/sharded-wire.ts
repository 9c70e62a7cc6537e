import { encode as msgpack } from "notepack.io";
import { MessageType } from "socket.io-adapter";
import type { EmitterRequest, EncodedRequest } from "./request.js";
import { broadcastChannel, SHARDED_SUBSCRIPTION_MODE } from "../redis-keys.js";

/**
 * Sharded pub/sub: the messages of socket.io-adapter's ClusterAdapter, which
 * `@socket.io/redis-adapter`'s sharded adapter sends and receives with SPUBLISH/SSUBSCRIBE.
 * The stock `@socket.io/redis-emitter` only speaks the classic format, and the sharded
 * adapter's own encoder and channel choice are private to it, so they are written here, in
 * the same shape (@socket.io/redis-adapter 8.3, dist/sharded-adapter.js):
 *   { uid: "emitter", nsp, type: MessageType, data }, JSON, or msgpack when `data` holds binary;
 *   channel `<prefix>#<nsp>#`, or `<prefix>#<nsp>#<room>#` for a broadcast to one room that is
 *   not a socket id, in the adapter's `dynamic` subscription mode.
 * test/integration/cluster.test.ts checks every request type against a real sharded gateway.
 */

/** The uid of messages that come from no server: socket.io-adapter does not count it as a node. */
const EMITTER_UID = "emitter";
/** Socket.IO's EVENT packet type (socket.io-parser PacketType.EVENT). */
const EVENT_PACKET = 2;

/** The sharded adapter's own test: Socket.IO socket ids are 20 characters long. */
function looksLikeASocketId(room: string): boolean {
  return room.length === 20;
}

/** Whether `value` holds a Buffer, typed array or ArrayBuffer anywhere (then it travels as msgpack, as the adapter does). */
export function hasBinary(value: unknown): boolean {
  if (!value || typeof value !== "object") return false;
  if (value instanceof ArrayBuffer || ArrayBuffer.isView(value)) return true;
  if (Array.isArray(value)) return value.some(hasBinary);
  const withToJSON = value as { toJSON?: () => unknown };
  if (typeof withToJSON.toJSON === "function") return hasBinary(withToJSON.toJSON());
  return Object.values(value).some(hasBinary);
}

/** The channel a sharded adapter listens on for this message. */
export function shardedChannel(prefix: string, namespace: string, broadcastRooms?: string[]): string {
  const base = broadcastChannel(namespace, prefix);
  const dynamic = SHARDED_SUBSCRIPTION_MODE === "dynamic" && broadcastRooms?.length === 1 && !looksLikeASocketId(broadcastRooms[0]);
  return dynamic ? `${base}${broadcastRooms[0]}#` : base;
}

/**
 * The ClusterAdapter message for a request, as the sharded adapter and, in recovery mode, the
 * gateway's log (adapter/recovery/redis-log-wire.ts) carry it.
 */
export function clusterMessage(request: EmitterRequest): { uid: string; nsp: string; type: MessageType; data: unknown } {
  const namespace = request.type === "server-side-emit" ? request.namespace : request.target.namespace;
  const opts = request.type === "server-side-emit" ? undefined : { rooms: request.target.rooms, except: request.target.except };
  let type: MessageType;
  let data: unknown;
  switch (request.type) {
    case "broadcast":
      type = MessageType.BROADCAST;
      data = { packet: { type: EVENT_PACKET, data: [request.event, ...request.args], nsp: namespace }, opts: { ...opts, flags: {} } };
      break;
    case "join":
    case "leave":
      type = request.type === "join" ? MessageType.SOCKETS_JOIN : MessageType.SOCKETS_LEAVE;
      data = { opts, rooms: request.rooms };
      break;
    case "disconnect":
      type = MessageType.DISCONNECT_SOCKETS;
      data = { opts, close: request.close };
      break;
    case "server-side-emit":
      type = MessageType.SERVER_SIDE_EMIT;
      data = { packet: [request.event, ...request.args] };
      break;
  }
  return { uid: EMITTER_UID, nsp: namespace, type, data };
}

export function encodeSharded(request: EmitterRequest, prefix: string): EncodedRequest {
  const message = clusterMessage(request);
  return {
    channel: shardedChannel(prefix, message.nsp, request.type === "broadcast" ? request.target.rooms : undefined),
    payload: hasBinary(message.data) ? (msgpack(message) as Buffer) : JSON.stringify(message),
  };
}
