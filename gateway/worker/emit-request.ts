// Socket.IO refuses to emit these names (its own lifecycle events): the list the emitter module checks too.
import { RESERVED_EVENTS } from "@socket.io/redis-emitter";
import { valueOverLimits, type ValueLimits } from "../../common/bounded-value.js";

/** The body of `POST /emit`, validated: what the endpoint accepts, as a pure function. */
export interface EmitRequest {
  event: string;
  /** Absent: the event is emitted with no argument. */
  data?: unknown;
  to: string[];
  except: string[];
  namespace: string;
}

const MAX_NAME_LENGTH = 256;

/**
 * What `data` may be: Socket.IO's packet encoder and the adapters' serializers (JSON, msgpack)
 * recurse, so data nested thousands of levels deep overflowed their stack after the 202 (an
 * unhandled rejection, delivered to nobody). The size bound is the body limit (1 MB).
 */
export const EMIT_DATA_LIMITS: ValueLimits = { maxChars: 1_000_000, maxDepth: 32 };

export type EmitParseResult = { ok: true; request: EmitRequest } | { ok: false; error: string };

function roomList(value: unknown, field: string): string[] | string {
  if (value === undefined) return [];
  const rooms = typeof value === "string" ? [value] : value;
  if (!Array.isArray(rooms) || !rooms.every((room) => typeof room === "string" && room.length > 0 && room.length <= MAX_NAME_LENGTH)) {
    return `"${field}" must be a room name or an array of room names (non-empty strings of at most ${MAX_NAME_LENGTH} characters)`;
  }
  return rooms as string[];
}

export function parseEmitRequest(body: unknown): EmitParseResult {
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    return { ok: false, error: "expected a JSON object body (Content-Type: application/json)" };
  }
  const { event, data, to, except, namespace, ...unknown } = body as Record<string, unknown>;
  const extra = Object.keys(unknown);
  if (extra.length > 0) return { ok: false, error: `unknown field "${extra[0]}" (expected event, data, to, except, namespace)` };
  if (typeof event !== "string" || event.length === 0 || event.length > MAX_NAME_LENGTH) {
    return { ok: false, error: `"event" must be a non-empty string of at most ${MAX_NAME_LENGTH} characters` };
  }
  if (RESERVED_EVENTS.has(event)) return { ok: false, error: `"event": "${event}" is reserved by Socket.IO` };
  const toRooms = roomList(to, "to");
  if (typeof toRooms === "string") return { ok: false, error: toRooms };
  const exceptRooms = roomList(except, "except");
  if (typeof exceptRooms === "string") return { ok: false, error: exceptRooms };
  const ns = namespace ?? "/";
  if (typeof ns !== "string" || !ns.startsWith("/") || ns.length > MAX_NAME_LENGTH) {
    return { ok: false, error: '"namespace" must be a string starting with "/"' };
  }
  const overLimits = data === undefined ? undefined : valueOverLimits(data, EMIT_DATA_LIMITS);
  if (overLimits) return { ok: false, error: `"data" ${overLimits}: it cannot be delivered` };
  return { ok: true, request: { event, ...(data === undefined ? {} : { data }), to: toRooms, except: exceptRooms, namespace: ns } };
}
