import { checkListenPort, checkUpstreams } from "../common/upstreams.js";
import { invalidOption } from "../common/errors.js";

export { parseUpstream } from "../common/upstreams.js";

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
  /** Socket.IO's `path` (the app module's `options.path`): its requests get the long timeouts and stay on their session's node. @default "/socket.io" */
  socketPath?: string;
  /** The gateway's `--max-header-size`, in bytes: nginx accepts a request head line (a cookie) as long as the gateway does. @default 16384 */
  maxHeaderSize?: number;
  /** With TLS: the plain-HTTP port that redirects to HTTPS (0: none). @default 80, or 8080 with `full` */
  httpRedirectPort?: number;
  /** Also listen on IPv6 (`[::]:PORT`). @default true */
  ipv6?: boolean;
  /**
   * Mark this server `default_server`: it answers requests for any host name on its port. Needed
   * without a `serverName` when the distribution's default site is enabled on the same port
   * (nginx -t then fails loudly on the duplicate instead of the default site winning quietly).
   * @default true when serverName is "_", false otherwise
   */
  defaultServer?: boolean;
  /** With `full`: the hard limit of open files of the user who runs nginx; `worker_rlimit_nofile` stays within it (no setrlimit alert as non-root). @default no cap */
  nofileHardLimit?: number;
}

export type ResolvedNginxOptions = Readonly<
  Required<Omit<NginxConfigOptions, "tlsCert" | "tlsKey" | "nofileHardLimit">> & Pick<NginxConfigOptions, "tlsCert" | "tlsKey" | "nofileHardLimit">
>;

/** What nginx itself accepts in a server_name without quoting: no spaces, semicolons, braces or quotes. */
const SERVER_NAME = /^[^\s;{}'"$\\]+$/;

function positive(value: unknown, name: string, expected: string): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value <= 0) throw invalidOption(name, expected, String(value));
  return value;
}

/** Validates and fills in the defaults. Throws a GatewayError("ERR_INVALID_OPTION") naming the option. */
export function resolveNginxOptions(options: NginxConfigOptions): ResolvedNginxOptions {
  const upstreams = checkUpstreams(options.upstreams);
  const balance = options.balance ?? "ip_hash";
  if (balance !== "ip_hash" && balance !== "hash") throw invalidOption("balance", "ip_hash or hash", balance);
  const serverName = options.serverName ?? "_";
  if (!SERVER_NAME.test(serverName)) throw invalidOption("server-name", "a server name without spaces, quotes, braces or semicolons", serverName);
  if ((options.tlsCert === undefined) !== (options.tlsKey === undefined)) {
    throw invalidOption(options.tlsCert === undefined ? "tls-cert" : "tls-key", "to be given together with --tls-cert and --tls-key", "");
  }
  for (const [name, path] of [
    ["tls-cert", options.tlsCert],
    ["tls-key", options.tlsKey],
  ] as const) {
    if (path !== undefined && (path === "" || /[\s;{}'"]/.test(path)))
      throw invalidOption(name, "a file path without spaces, quotes, braces or semicolons", path);
  }
  const full = options.full ?? false;
  const tls = options.tlsCert !== undefined;
  const socketPath = options.socketPath ?? "/socket.io";
  if (!/^\/[A-Za-z0-9._~!$&'()*+,;=:@/-]*$/.test(socketPath) || /[;{}'"]/.test(socketPath))
    throw invalidOption("path", "a URL path starting with / (no spaces, quotes, braces or ;)", socketPath);
  const httpRedirectPort = options.httpRedirectPort ?? (tls ? (full ? 8080 : 80) : 0);
  if (!Number.isInteger(httpRedirectPort) || httpRedirectPort < 0 || httpRedirectPort > 65535)
    throw invalidOption("http-redirect-port", "a port number from 0 to 65535", String(httpRedirectPort));
  const nofileHardLimit = options.nofileHardLimit === undefined ? undefined : positive(options.nofileHardLimit, "nofile-hard-limit", "a positive integer");
  return Object.freeze({
    upstreams: [...upstreams],
    listen: options.listen === undefined && tls ? (full ? 8443 : 443) : checkListenPort(options.listen, full),
    serverName,
    balance,
    full,
    tlsCert: options.tlsCert,
    tlsKey: options.tlsKey,
    pingInterval: positive(options.pingInterval ?? 25_000, "ping-interval", "a duration in ms (integer > 0)"),
    pingTimeout: positive(options.pingTimeout ?? 20_000, "ping-timeout", "a duration in ms (integer > 0)"),
    maxBodySize: positive(options.maxBodySize ?? 1_000_000, "max-body-size", "a size in bytes (integer > 0)"),
    workerConnections: positive(options.workerConnections ?? 16_384, "worker-connections", "a positive integer"),
    socketPath: socketPath.endsWith("/") ? socketPath : `${socketPath}/`,
    maxHeaderSize: positive(options.maxHeaderSize ?? 16_384, "max-header-size", "a size in bytes (integer > 0)"),
    httpRedirectPort: tls ? httpRedirectPort : 0,
    ipv6: options.ipv6 ?? true,
    defaultServer: options.defaultServer ?? serverName === "_",
    nofileHardLimit,
  });
}
