import { invalidOption } from "../common/errors.js";
import { checkListenPort, checkUpstreams } from "../common/upstreams.js";
import { isCookieName } from "../gateway/options.js";

export type HaproxyBalance = "source" | "cookie";

/** Options of `sio-gateway haproxy` / `generateHaproxyConfig()`. */
export interface HaproxyConfigOptions {
  /** Gateway nodes' public ports, `HOST:PORT`. Required. */
  upstreams: string[];
  /** Port HAProxy listens on. @default 80, or 8080 with `full` (a non-root user cannot bind below 1024) */
  listen?: number;
  /** `source`: a client address always reaches the same node (consistent hash); `cookie`: HAProxy inserts a cookie naming the node, which survives address changes (NAT, mobile). @default "source" */
  balance?: HaproxyBalance;
  /** Name of the node cookie HAProxy inserts in cookie mode. @default "SIO_NODE" */
  cookieName?: string;
  /** `USER:PASSWORD` protecting the stats page (on the internal stats listener, not the public port). @default undefined: no password, reachable from the stats address only */
  stats?: string;
  /** Health check interval of /readyz, in ms (a node is down after 2 failures, up after 2 successes). @default 2000 */
  checkInterval?: number;
  /** Socket.IO pingInterval + pingTimeout of the gateway, in ms: `timeout tunnel` must outlast it. @default 45000 */
  heartbeat?: number;
  /** A complete haproxy.cfg (global section, no user switch or chroot) that any user runs with `haproxy -f FILE`. @default false */
  full?: boolean;
  /** `maxconn` of the global section (needs about 2 file descriptors each: raise `ulimit -n` first, see `sio-gateway doctor`). @default derived by HAProxy from `ulimit -n` */
  maxconn?: number;
  /** Address of the internal stats listener (the stats page and its CSV), kept off the public port. @default "127.0.0.1:8404" */
  statsListen?: string;
  /** With `full`: the runtime API socket (`set server sio_gateway_nodes/node1 state drain`); relative to HAProxy's working directory. @default "haproxy-admin.sock" */
  statsSocket?: string;
  /** A PEM file with the certificate and its key: the public side listens with TLS and plain HTTP redirects to it. @default undefined */
  tlsCert?: string;
  /** With TLS: the plain-HTTP port that redirects to HTTPS (0: none). @default 80, or 8080 with `full` */
  httpRedirectPort?: number;
  /** Largest request body, in bytes (Socket.IO's maxHttpBufferSize): bigger ones get 413 at the edge. @default 1000000 */
  maxBodySize?: number;
  /** The gateway's `--max-header-size`: HAProxy's buffer holds a request head that large, with `full`. @default 16384 */
  maxHeaderSize?: number;
}

export type ResolvedHaproxyOptions = Readonly<
  Required<Omit<HaproxyConfigOptions, "stats" | "maxconn" | "tlsCert">> & Pick<HaproxyConfigOptions, "stats" | "maxconn" | "tlsCert">
>;

function port(value: number, name: string, min: number): number {
  if (!Number.isInteger(value) || value < min || value > 65535) throw invalidOption(name, `a port number from ${min} to 65535`, String(value));
  return value;
}

/** Validates and fills in the defaults. Throws a GatewayError("ERR_INVALID_OPTION") naming the option. */
export function resolveHaproxyOptions(options: HaproxyConfigOptions): ResolvedHaproxyOptions {
  const upstreams = checkUpstreams(options.upstreams);
  const balance = options.balance ?? "source";
  if (balance !== "source" && balance !== "cookie") throw invalidOption("balance", "source or cookie", balance);
  const cookieName = options.cookieName ?? "SIO_NODE";
  if (!isCookieName(cookieName)) throw invalidOption("cookie-name", "a cookie name (letters, digits, - _ .)", cookieName);
  if (options.stats !== undefined && !/^[^\s:'"#]+:[^\s'"#]{8,}$/.test(options.stats)) {
    throw invalidOption(
      "stats",
      "USER:PASSWORD with a password of at least 8 characters, no spaces, quotes or #",
      options.stats.includes(":") ? `${options.stats.split(":")[0]}:***` : "***",
    );
  }
  const full = options.full ?? false;
  const tlsCert = options.tlsCert;
  if (tlsCert !== undefined && (tlsCert === "" || /[\s'"#]/.test(tlsCert)))
    throw invalidOption("tls-cert", "a PEM file path without spaces, quotes or #", tlsCert);
  const listen = options.listen === undefined && tlsCert !== undefined ? (full ? 8443 : 443) : checkListenPort(options.listen, full);
  const httpRedirectPort = tlsCert === undefined ? 0 : port(options.httpRedirectPort ?? (full ? 8080 : 80), "http-redirect-port", 0);
  const statsListen = options.statsListen ?? "127.0.0.1:8404";
  const statsAddress = /^(.*):(\d{1,5})$/.exec(statsListen);
  if (!statsAddress || !/^(\[[0-9a-fA-F:.]+\]|[0-9.]+|[A-Za-z0-9.-]+)?$/.test(statsAddress[1]))
    throw invalidOption("stats-listen", "ADDRESS:PORT", statsListen);
  port(Number(statsAddress[2]), "stats-listen", 1);
  const statsSocket = options.statsSocket ?? "haproxy-admin.sock";
  if (statsSocket === "" || /[\s'"#]/.test(statsSocket)) throw invalidOption("stats-socket", "a socket path without spaces, quotes or #", statsSocket);
  const maxBodySize = options.maxBodySize ?? 1_000_000;
  if (!Number.isInteger(maxBodySize) || maxBodySize <= 0) throw invalidOption("max-body-size", "a size in bytes (integer > 0)", String(maxBodySize));
  const maxHeaderSize = options.maxHeaderSize ?? 16_384;
  if (!Number.isInteger(maxHeaderSize) || maxHeaderSize < 256)
    throw invalidOption("max-header-size", "a size in bytes (integer >= 256)", String(maxHeaderSize));
  const checkInterval = options.checkInterval ?? 2000;
  if (!Number.isInteger(checkInterval) || checkInterval < 100)
    throw invalidOption("check-interval", "a duration in ms (integer >= 100)", String(checkInterval));
  const heartbeat = options.heartbeat ?? 45_000;
  if (!Number.isInteger(heartbeat) || heartbeat <= 0) throw invalidOption("heartbeat", "a duration in ms (integer > 0)", String(heartbeat));
  if (options.maxconn !== undefined && (!Number.isInteger(options.maxconn) || options.maxconn < 1))
    throw invalidOption("maxconn", "a positive integer", String(options.maxconn));
  return Object.freeze({
    upstreams,
    listen,
    balance,
    cookieName,
    stats: options.stats,
    checkInterval,
    heartbeat,
    full,
    maxconn: options.maxconn,
    statsListen,
    statsSocket,
    tlsCert,
    httpRedirectPort,
    maxBodySize,
    maxHeaderSize,
  });
}
