import { invalidOption } from "../gateway/errors.js";

export type NginxBalance = "ip_hash" | "hash";

/** Options of `sio-gateway nginx` / `generateNginxConfig()`. */
export interface NginxConfigOptions {
  /** Gateway nodes' public ports (or individual worker ports), `HOST:PORT`. Required. */
  upstreams: string[];
  /** Port nginx listens on. @default 80, or 8080 with `full` (a non-root user cannot bind below 1024) */
  listen?: number;
  /** `server_name`. @default "_" (any) */
  serverName?: string;
  /** `ip_hash` (by the client's /24 for IPv4) or `hash $remote_addr consistent` (by the whole address). @default "ip_hash" */
  balance?: NginxBalance;
  /** A complete nginx.conf runnable by a non-root user with `nginx -p DIR -c FILE`. @default false */
  full?: boolean;
  /** TLS certificate file (with `tlsKey`): the server listens with `ssl`. @default undefined */
  tlsCert?: string;
  /** TLS private key file (with `tlsCert`). @default undefined */
  tlsKey?: string;
  /** Socket.IO pingInterval of the gateway, in ms: the proxy timeouts must outlast it. @default 25000 */
  pingInterval?: number;
  /** Socket.IO pingTimeout of the gateway, in ms. @default 20000 */
  pingTimeout?: number;
  /** Largest request body, in bytes: Socket.IO's maxHttpBufferSize. @default 1000000 */
  maxBodySize?: number;
  /** `worker_connections` per nginx worker, with `full`. @default 16384 */
  workerConnections?: number;
}

export type ResolvedNginxOptions = Readonly<Required<Omit<NginxConfigOptions, "tlsCert" | "tlsKey">> & Pick<NginxConfigOptions, "tlsCert" | "tlsKey">>;

const HOST = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9](?:[A-Za-z0-9.-]{0,252}[A-Za-z0-9])?)$/;
/** What nginx itself accepts in a server_name without quoting: no spaces, semicolons, braces or quotes. */
const SERVER_NAME = /^[^\s;{}'"$\\]+$/;

function port(value: unknown, name: string, min = 1): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > 65535) {
    throw invalidOption(name, `a port number from ${min} to 65535`, String(value));
  }
  return value;
}

function positive(value: unknown, name: string, expected: string): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value <= 0) throw invalidOption(name, expected, String(value));
  return value;
}

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

/** Validates and fills in the defaults. Throws a GatewayError("ERR_INVALID_OPTION") naming the option. */
export function resolveNginxOptions(options: NginxConfigOptions): ResolvedNginxOptions {
  const upstreams = options.upstreams ?? [];
  if (!Array.isArray(upstreams) || upstreams.length === 0) throw invalidOption("upstream", "at least one HOST:PORT", "");
  for (const upstream of upstreams) parseUpstream(upstream);
  const balance = options.balance ?? "ip_hash";
  if (balance !== "ip_hash" && balance !== "hash") throw invalidOption("balance", "ip_hash or hash", balance);
  const serverName = options.serverName ?? "_";
  if (!SERVER_NAME.test(serverName)) throw invalidOption("server-name", "a server name without spaces, quotes, braces or semicolons", serverName);
  if ((options.tlsCert === undefined) !== (options.tlsKey === undefined)) {
    throw invalidOption(options.tlsCert === undefined ? "tls-cert" : "tls-key", "to be given together with --tls-cert and --tls-key", "");
  }
  for (const [name, path] of [["tls-cert", options.tlsCert], ["tls-key", options.tlsKey]] as const) {
    if (path !== undefined && (path === "" || /[\s;{}'"]/.test(path))) throw invalidOption(name, "a file path without spaces, quotes, braces or semicolons", path);
  }
  const full = options.full ?? false;
  return Object.freeze({
    upstreams: [...upstreams],
    listen: port(options.listen ?? (full ? 8080 : 80), "listen"),
    serverName,
    balance,
    full,
    tlsCert: options.tlsCert,
    tlsKey: options.tlsKey,
    pingInterval: positive(options.pingInterval ?? 25_000, "ping-interval", "a duration in ms (integer > 0)"),
    pingTimeout: positive(options.pingTimeout ?? 20_000, "ping-timeout", "a duration in ms (integer > 0)"),
    maxBodySize: positive(options.maxBodySize ?? 1_000_000, "max-body-size", "a size in bytes (integer > 0)"),
    workerConnections: positive(options.workerConnections ?? 16_384, "worker-connections", "a positive integer"),
  });
}
