import { decode, encode } from "notepack.io";
import type { ClusterMessage, ClusterResponse } from "socket.io-adapter";
import { REDIS_KEY_PREFIX } from "../redis-keys.js";

/**
 * What the gateway's recovery log (redis-log.ts) and the emitter (adapter/emitter/connection.ts)
 * share on Redis in recovery mode, in one place so both write the same thing:
 *   `<prefix>-log`                 the stream every gateway process reads, in one order;
 *   `<prefix>-gateway#transport`   "log" while a gateway runs in recovery mode (TTL 60 s, refreshed);
 *   `<prefix>-gateway#log-readers` sorted set of the processes reading the stream, scored with the
 *                                  time (ms) their registration lapses unless refreshed.
 * An entry is either `message <msgpack ClusterMessage> [id <append id>]` (delivered to every
 * reader in order; the id, unique per append, lets readers drop the copy ioredis makes when it
 * sends an unanswered XADD again after a reconnection) or `response <msgpack ClusterResponse>
 * to <requester uid>` (for one adapter, never replayed).
 * msgpack because packets carry Buffers (JSON would turn them into `{type, data}` objects).
 */

export function logStreamKey(prefix = REDIS_KEY_PREFIX): string {
  return `${prefix}-log`;
}

export function transportKey(prefix = REDIS_KEY_PREFIX): string {
  return `${prefix}-gateway#transport`;
}

export function logReadersKey(prefix = REDIS_KEY_PREFIX): string {
  return `${prefix}-gateway#log-readers`;
}

/** The transport key's value in recovery mode. */
export const LOG_TRANSPORT = "log";
/** How long the transport key and a reader's registration live without a refresh, in ms. */
export const TRANSPORT_TTL = 60_000;

export const MESSAGE_FIELD = "message";
export const RESPONSE_FIELD = "response";
export const TO_FIELD = "to";
export const ID_FIELD = "id";

/** The fields of a message entry (the order XADD takes them); emitters give no id (they never send a command twice). */
export function messageFields(message: ClusterMessage | object, appendId?: string): (string | Buffer)[] {
  const fields: (string | Buffer)[] = [MESSAGE_FIELD, encode(message) as Buffer];
  if (appendId !== undefined) fields.push(ID_FIELD, appendId);
  return fields;
}

export function responseFields(requesterUid: string, response: ClusterResponse, appendId: string): (string | Buffer)[] {
  return [RESPONSE_FIELD, encode(response) as Buffer, TO_FIELD, requesterUid, ID_FIELD, appendId];
}

export type DecodedEntry = ({ kind: "message"; message: ClusterMessage } | { kind: "response"; to: string; response: ClusterResponse }) & { appendId?: string };

/** An entry's fields (as XREAD/XRANGE give them: name, value, name, value…), or undefined when they are not ours. */
export function decodeEntryFields(fields: Buffer[]): DecodedEntry | undefined {
  const values = new Map<string, Buffer>();
  for (let i = 0; i + 1 < fields.length; i += 2) values.set(fields[i].toString(), fields[i + 1]);
  const appendId = values.get(ID_FIELD)?.toString();
  const withId = appendId !== undefined ? { appendId } : {};
  const message = values.get(MESSAGE_FIELD);
  if (message) {
    const decoded = decodeShaped(message);
    if (!decoded) return undefined;
    return { kind: "message", message: decoded as ClusterMessage, ...withId };
  }
  const response = values.get(RESPONSE_FIELD);
  const to = values.get(TO_FIELD);
  if (!response || !to) return undefined;
  const decoded = decodeShaped(response);
  return decoded ? { kind: "response", to: to.toString(), response: decoded as ClusterResponse, ...withId } : undefined;
}

/**
 * msgpack with the shape every ClusterMessage/ClusterResponse has (`uid`, `nsp`, `type`); anything
 * else in the stream (a foreign writer, a bug) is dropped rather than handed to the adapter.
 */
function decodeShaped(payload: Buffer): object | undefined {
  let value: unknown;
  try {
    value = decode(payload);
  } catch {
    return undefined;
  }
  if (!value || typeof value !== "object") return undefined;
  const { uid, nsp, type } = value as Record<string, unknown>;
  return typeof uid === "string" && typeof nsp === "string" && typeof type === "number" ? value : undefined;
}
