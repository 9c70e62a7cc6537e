import { invalidOption } from "./errors.js";

/** What the Nginx and HAProxy generators share: checking the upstream list and the listen port. */

const HOST = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9](?:[A-Za-z0-9.-]{0,252}[A-Za-z0-9])?)$/;

/** Checks `HOST:PORT` (`[v6]:PORT` for IPv6). */
export function parseUpstream(entry: string): { host: string; port: number } {
  const colon = entry.lastIndexOf(":");
  const host = entry.slice(0, colon);
  const portText = entry.slice(colon + 1);
  if (colon <= 0 || !HOST.test(host) || !/^\d{1,5}$/.test(portText) || Number(portText) < 1 || Number(portText) > 65535) {
    throw invalidOption("upstream", "HOST:PORT with a port from 1 to 65535", entry);
  }
  return { host, port: Number(portText) };
}

/** `Array.isArray` for a readonly array (the built-in narrows it to `any[]`). */
function isArray<T>(value: readonly T[] | undefined): value is readonly T[] {
  return Array.isArray(value);
}

/** The upstream list, each entry checked; throws naming "upstream" when it is empty or an entry is bad. */
export function checkUpstreams(upstreams: readonly string[] | undefined): string[] {
  if (!isArray(upstreams) || upstreams.length === 0) throw invalidOption("upstream", "at least one HOST:PORT", "");
  for (const upstream of upstreams) parseUpstream(upstream);
  return [...upstreams];
}

/** The port the edge listens on: 80, or 8080 for a `--full` config a non-root user runs. */
export function checkListenPort(listen: number | undefined, full: boolean): number {
  const port = listen ?? (full ? 8080 : 80);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw invalidOption("listen", "a port number from 1 to 65535", String(port));
  return port;
}
