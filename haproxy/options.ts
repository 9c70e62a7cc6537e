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
  /** `USER:PASSWORD` enabling the stats page at /haproxy-stats. @default undefined */
  stats?: string;
  /** Health check interval of /readyz, in ms (a node is down after 2 failures, up after 2 successes). @default 2000 */
  checkInterval?: number;
  /** Socket.IO pingInterval + pingTimeout of the gateway, in ms: `timeout tunnel` must outlast it. @default 45000 */
  heartbeat?: number;
  /** A complete haproxy.cfg (global section, no user switch or chroot) that any user runs with `haproxy -f FILE`. @default false */
  full?: boolean;
  /** `maxconn` of the global section (needs about 2 file descriptors each: raise `ulimit -n` first, see `sio-gateway doctor`). @default derived by HAProxy from `ulimit -n` */
  maxconn?: number;
}

export type ResolvedHaproxyOptions = Readonly<Required<Omit<HaproxyConfigOptions, "stats" | "maxconn">> & Pick<HaproxyConfigOptions, "stats" | "maxconn">>;

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
  const listen = checkListenPort(options.listen, full);
  const checkInterval = options.checkInterval ?? 2000;
  if (!Number.isInteger(checkInterval) || checkInterval < 100)
    throw invalidOption("check-interval", "a duration in ms (integer >= 100)", String(checkInterval));
  const heartbeat = options.heartbeat ?? 45_000;
  if (!Number.isInteger(heartbeat) || heartbeat <= 0) throw invalidOption("heartbeat", "a duration in ms (integer > 0)", String(heartbeat));
  if (options.maxconn !== undefined && (!Number.isInteger(options.maxconn) || options.maxconn < 1))
    throw invalidOption("maxconn", "a positive integer", String(options.maxconn));
  return Object.freeze({ upstreams, listen, balance, cookieName, stats: options.stats, checkInterval, heartbeat, full, maxconn: options.maxconn });
}
