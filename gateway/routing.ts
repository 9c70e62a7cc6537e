import { slotOfSessionId } from "./session-id.js";

/**
 * The routing decision: which worker slot a request goes to, from its target, its headers and
 * its client IP. The primary applies it to the first request of a connection, each worker to
 * every later request on it (worker/request-router.ts), so both must agree: one function.
 * Pure (no sockets), so it is unit-tested.
 */

/** What routing reads of a request: its target and (for the session cookie) its lower-cased headers. */
export interface RoutedRequest {
  /** Request target, e.g. `/socket.io/?EIO=4&transport=polling&sid=...`. */
  target: string;
  headers: ReadonlyMap<string, string>;
}

/**
 * The `sid` query parameter of a request target (the first one), if any, as URLSearchParams
 * reads it. Every request a worker gets passes here: a query with nothing to decode (no `%`, no
 * `+`: what Engine.IO clients send) is scanned in place instead of building a URLSearchParams.
 */
export function sessionIdOf(target: string): string | undefined {
  const query = target.indexOf("?");
  if (query === -1) return undefined;
  const search = target.slice(query + 1);
  if (search.includes("%") || search.includes("+")) return new URLSearchParams(search).get("sid") ?? undefined;
  for (let start = 0; start < search.length;) {
    let end = search.indexOf("&", start);
    if (end === -1) end = search.length;
    if (search.startsWith("sid", start)) {
      if (end === start + 3) return "";
      if (search.charCodeAt(start + 3) === 0x3d /* = */) return search.slice(start + 4, end);
    }
    start = end + 1;
  }
  return undefined;
}

/** FNV-1a, 32 bits: stable across processes and releases (unlike anything seeded), and cheap. */
export function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

/** The worker slot for a client IP: a stable hash over `workerCount` slots. */
export function slotForIp(ip: string, workerCount: number): number {
  return fnv1a(ip) % workerCount;
}

/** The value of one cookie in a Cookie header, if present. */
export function cookieValue(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const pair of header.split(";")) {
    const equals = pair.indexOf("=");
    if (equals !== -1 && pair.slice(0, equals).trim() === name) return pair.slice(equals + 1).trim();
  }
  return undefined;
}

/** Why a slot was chosen: shown in debug logs and counted. */
export type RouteReason = "session" | "cookie" | "ip";

/**
 * The worker slot of a request: the slot its Engine.IO session names, when it names one that
 * exists; else, with a session cookie configured, the slot the cookie's (possibly old) session
 * names; otherwise the hash of its client IP.
 */
export function chooseSlot(head: RoutedRequest, ip: string, workerCount: number, cookie?: string): { slot: number; reason: RouteReason } {
  /** The slot a session id names, when it names one that exists. */
  const existingSlot = (sessionId: string | undefined): number | undefined => {
    const slot = sessionId === undefined ? undefined : slotOfSessionId(sessionId);
    return slot !== undefined && slot < workerCount ? slot : undefined;
  };
  const sessionSlot = existingSlot(sessionIdOf(head.target));
  if (sessionSlot !== undefined) return { slot: sessionSlot, reason: "session" };
  const cookieSlot = cookie === undefined ? undefined : existingSlot(cookieValue(head.headers.get("cookie"), cookie));
  if (cookieSlot !== undefined) return { slot: cookieSlot, reason: "cookie" };
  return { slot: slotForIp(ip, workerCount), reason: "ip" };
}
