/**
 * The HTTP request head parser of the primary: the request line and headers of a connection's
 * first request, and nothing else. Pure (no sockets), so it is unit-tested.
 */

/** What the primary needs from the first request of a connection. */
export interface RequestHead {
  method: string;
  /** Request target, e.g. `/socket.io/?EIO=4&transport=polling&sid=...`. */
  target: string;
  /** Lower-cased header names; a repeated header keeps its values joined by ", " (as Node does for X-Forwarded-For). */
  headers: Map<string, string>;
}

export type HeadParseResult = { kind: "incomplete" } | { kind: "complete"; head: RequestHead } | { kind: "invalid"; reason: string };

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
  return { kind: "complete", head: { method: requestLine[1], target: requestLine[2], headers } };
}

/** True while the bytes so far could still become `METHOD SP target`: lets garbage be refused early. */
function looksLikeRequestLineStart(buffer: Buffer): boolean {
  const method = /^[A-Z]{0,20}( |$)/.exec(buffer.toString("latin1", 0, Math.min(buffer.length, 21)));
  return method !== null;
}
