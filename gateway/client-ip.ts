import { BlockList, isIPv4, isIPv6 } from "node:net";

/**
 * Who the client is: the peer address, or behind a `--trust-proxy` address the forwarded
 * client. Pure (no sockets), so it is unit-tested.
 */

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
    const entry = forwarded[i];
    if (!isIPv4(entry) && !isIPv6(entry)) break;
    if (!isTrustedProxy(entry, trusted)) return entry;
  }
  const realIp = normalizeIp((headers.get("x-real-ip") ?? "").trim());
  if (isIPv4(realIp) || isIPv6(realIp)) return realIp;
  return peer;
}
