import { BlockList, isIPv4, isIPv6 } from "node:net";
import { slotOfSessionId } from "./session-id.js";

/**
 * Pure routing decisions of the primary: parsing the head of the first HTTP request,
 * finding the client IP and choosing a worker slot. No sockets here, so it is unit-tested.
 */

/** What the primary needs from the first request of a connection. */
export interface RequestHead {
  method: string;
  /** Request target, e.g. `/socket.io/?EIO=4&transport=polling&sid=...`. */
  target: string;
  /** Lower-cased header names; a repeated header keeps its values joined by ", " (as Node does for X-Forwarded-For). */
  headers: Map<string, string>;
}

export type HeadParseResult =
  | { kind: "incomplete" }
  | { kind: "complete"; head: RequestHead }
  | { kind: "invalid"; reason: string };

const HEAD_END = Buffer.from("\r\n\r\n");
const REQUEST_LINE = /^([A-Z]{1,20}) (\S{1,8192}) HTTP\/1\.[01]$/;

/**
 * Parses the request line and headers if the buffer holds all of them. Header values are
 * decoded as latin1, which maps bytes 1:1, so nothing is lost; the buffer itself is never changed.
 */
export function parseRequestHead(buffer: Buffer): HeadParseResult {
  const firstLineEnd = buffer.indexOf("\r\n");
  if (firstLineEnd === -1) {
    return looksLikeRequestLineStart(buffer) ? { kind: "incomplete" } : { kind: "invalid", reason: "not an HTTP request" };
  }
  const requestLine = REQUEST_LINE.exec(buffer.toString("latin1", 0, firstLineEnd));
  if (!requestLine) return { kind: "invalid", reason: "malformed request line" };
  const end = buffer.indexOf(HEAD_END);
  if (end === -1) return { kind: "incomplete" };
  const headers = new Map<string, string>();
  const headerLines = end > firstLineEnd ? buffer.toString("latin1", firstLineEnd + 2, end).split("\r\n") : [];
  for (const line of headerLines) {
    const colon = line.indexOf(":");
    if (colon <= 0) return { kind: "invalid", reason: "malformed header line" };
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    const previous = headers.get(name);
    headers.set(name, previous === undefined ? value : `${previous}, ${value}`);
  }
  return { kind: "complete", head: { method: requestLine[1]!, target: requestLine[2]!, headers } };
}

/** True while the bytes so far could still become `METHOD SP target`: lets garbage be refused early. */
function looksLikeRequestLineStart(buffer: Buffer): boolean {
  const method = /^[A-Z]{0,20}( |$)/.exec(buffer.toString("latin1", 0, Math.min(buffer.length, 21)));
  return method !== null;
}

/** The `sid` query parameter of a request target, if any. */
export function sessionIdOf(target: string): string | undefined {
  const query = target.indexOf("?");
  if (query === -1) return undefined;
  return new URLSearchParams(target.slice(query + 1)).get("sid") ?? undefined;
}

/** `::ffff:127.0.0.1` → `127.0.0.1`, so one client has one key whatever the socket family. */
export function normalizeIp(address: string): string {
  return address.startsWith("::ffff:") && isIPv4(address.slice(7)) ? address.slice(7) : address;
}

/** A BlockList of the `--trust-proxy` entries (IPs and CIDRs, v4 and v6); undefined when there are none. */
export function trustedProxies(entries: readonly string[]): BlockList | undefined {
  if (entries.length === 0) return undefined;
  const list = new BlockList();
  for (const entry of entries) {
    const [address, prefix] = entry.split("/") as [string, string | undefined];
    const family = isIPv6(address) ? "ipv6" : "ipv4";
    if (prefix === undefined) list.addAddress(address, family);
    else list.addSubnet(address, Number(prefix), family);
  }
  return list;
}

/** Whether `ip` is one of the `--trust-proxy` entries (never, without any). */
export function isTrustedProxy(ip: string, trusted: BlockList | undefined): boolean {
  return trusted !== undefined && trusted.check(ip, isIPv6(ip) ? "ipv6" : "ipv4");
}

/**
 * The client IP of a connection. From a trusted proxy it is the rightmost entry of
 * X-Forwarded-For that is not itself a trusted proxy (entries left of it can be forged by the
 * client), else X-Real-IP; otherwise, and when the headers hold no valid IP, the peer address.
 */
export function clientIp(peerAddress: string, headers: Map<string, string>, trusted: BlockList | undefined): string {
  const peer = normalizeIp(peerAddress);
  // No --trust-proxy: skip the BlockList lookup (it allocates a SocketAddress per call, on every connection).
  if (!isTrustedProxy(peer, trusted)) return peer;
  const forwarded = (headers.get("x-forwarded-for") ?? "").split(",").map((entry) => normalizeIp(entry.trim()));
  for (let i = forwarded.length - 1; i >= 0; i--) {
    const entry = forwarded[i]!;
    if (!isIPv4(entry) && !isIPv6(entry)) break;
    if (!isTrustedProxy(entry, trusted)) return entry;
  }
  const realIp = normalizeIp((headers.get("x-real-ip") ?? "").trim());
  if (isIPv4(realIp) || isIPv6(realIp)) return realIp;
  return peer;
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
export function chooseSlot(head: RequestHead, ip: string, workerCount: number, cookie?: string): { slot: number; reason: RouteReason } {
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
