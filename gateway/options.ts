import { existsSync } from "node:fs";
import { isIP } from "node:net";
import { availableParallelism } from "node:os";
import { fileURLToPath } from "node:url";
import { parseRedisTarget } from "../adapter/redis-url.js";
import { invalidOption } from "../common/errors.js";

export type LogLevel = "fatal" | "error" | "warn" | "info" | "debug" | "trace" | "silent";
const LOG_LEVELS: readonly LogLevel[] = ["fatal", "error", "warn", "info", "debug", "trace", "silent"];

/** Options of `sio-gateway start` / `startGateway()`. Every field is optional on input. */
export interface GatewayOptions {
  /** Public port of the primary (0 picks a free one). @default 3000 */
  port?: number;
  /** Bind address of the public port. @default "0.0.0.0" */
  host?: string;
  /** Number of worker processes. @default os.availableParallelism() */
  workers?: number;
  /** `redis://`, `rediss://`, `redis-sentinel://host:port,…/master` or `redis-cluster://host:port,…` URL (adapter/redis-url.ts); without it workers share through the primary over IPC. @default undefined */
  redis?: string;
  /** Path of the app module (default export `(ctx) => void | Promise<void>`). @default the bundled demo app */
  app?: string;
  /** IPs / CIDRs whose connections are routed by the forwarded client IP. @default [] */
  trustProxy?: string[];
  /** Worker i also listens on workerPortBase + i. @default undefined */
  workerPortBase?: number;
  /** Bearer token that enables `POST /emit`. @default undefined */
  emitToken?: string;
  /** Allowed CORS origins; empty means same origin only. @default [] */
  corsOrigin?: string[];
  /** Time to drain on SIGTERM/SIGINT before workers are killed, in ms. @default 10000 */
  shutdownTimeout?: number;
  /** Time for every worker to become ready at start (app set up, adapter connected), in ms; past it, start fails naming what it waited for. @default 30000 */
  startTimeout?: number;
  /** Time a connection may take to send its first request head, in ms (then 408): in the worker's front door, or in the primary for --trust-proxy peers and with --cookie. @default 10000 */
  headerTimeout?: number;
  /** Bytes of request headers a request may have (beyond: 431), in the primary and in the workers. @default 16384 */
  maxHeaderSize?: number;
  /** Events per second one socket may send (burst of the same size); 0 turns it off. @default 50 */
  rateLimit?: number;
  /** Open connections accepted from one client IP; 0 turns it off. @default 1000 */
  maxConnsPerIp?: number;
  /** Connections still sending their first request head at once, all clients together (beyond: 503); each worker holds its share of those handed over on accept. @default 10000 */
  maxPendingHeads?: number;
  /** Operational log level. @default "info" */
  logLevel?: LogLevel;
  /** `/metrics`: "on" (public and worker ports), "off", or a port the primary serves it on alone. @default "on" */
  metrics?: MetricsSetting;
  /** `USER:PASSWORD` enabling @socket.io/admin-ui (namespace /admin, UI at /admin-ui/). @default undefined */
  adminUi?: string;
  /**
   * Name of the Engine.IO session cookie. Set, every handshake sets it (its value is the session
   * id, which names the worker), and the primary routes a request without `sid=` by it, so a
   * client keeps its worker when its IP changes (behind HAProxy cookie stickiness). @default undefined
   */
  cookie?: string;
  /**
   * A second listener for the private endpoints (`/metrics`, `/admin-ui` and its /admin
   * namespace, `POST /emit`); set, the public port and worker ports answer 404 for them. @default undefined
   */
  adminPort?: number;
  /** Bind address of `adminPort`. @default "127.0.0.1" */
  adminHost?: string;
  /** A file the primary writes its pid to once ready (removed at exit), for scripts that send it SIGHUP. @default undefined */
  pidFile?: string;
}

export type MetricsSetting = "on" | "off" | number;

/** Options after defaults and validation: every field is set (undefined only where "none" is the default). */
export type ResolvedOptions = Readonly<
  Required<Omit<GatewayOptions, "redis" | "workerPortBase" | "emitToken" | "adminUi" | "cookie" | "adminPort" | "pidFile">> &
    Pick<GatewayOptions, "redis" | "workerPortBase" | "emitToken" | "adminUi" | "cookie" | "adminPort" | "pidFile">
>;

type OptionName = keyof GatewayOptions;

interface OptionSpec {
  /** Command-line flag without the dashes. */
  flag: string;
  /** Environment variable without the prefix: `SIO_GATEWAY_<env>` is read first, the bare name for one more release (see envNames). */
  env: string;
  /** One line for `sio-gateway help start`. */
  description?: string;
  /** The default as `help` shows it (`none` when unset). */
  defaultText?: string;
  /** Turns a raw value (a string from argv/env, or a typed value from the library) into the typed one. */
  parse(raw: unknown, name: string): unknown;
}

function integer(min: number, max: number, expected: string) {
  return (raw: unknown, name: string): number => {
    const value = typeof raw === "string" && /^-?\d+$/.test(raw.trim()) ? Number(raw) : raw;
    if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
      throw invalidOption(name, expected, raw);
    }
    return value;
  };
}

function nonEmptyString(expected: string) {
  return (raw: unknown, name: string): string => {
    if (typeof raw !== "string" || raw.trim() === "") throw invalidOption(name, expected, raw);
    return raw.trim();
  };
}

/** A comma-separated string or an array of strings, each checked by `check`. */
function list(expected: string, check: (item: string) => boolean) {
  return (raw: unknown, name: string): string[] => {
    const items: unknown = typeof raw === "string" ? raw.split(",") : raw;
    if (!Array.isArray(items)) throw invalidOption(name, expected, raw);
    const trimmed = (items as unknown[]).map((item) => (typeof item === "string" ? item.trim() : item)).filter((item) => item !== "");
    if (!trimmed.every((item): item is string => typeof item === "string" && check(item))) throw invalidOption(name, expected, raw);
    return trimmed;
  };
}

/** `10.0.0.1`, `::1`, `10.0.0.0/8`, `fd00::/8`. */
export function isIpOrCidr(value: string): boolean {
  const [address, prefix, ...rest] = value.split("/");
  const family = isIP(address ?? "");
  if (family === 0 || rest.length > 0) return false;
  if (prefix === undefined) return true;
  if (!/^\d+$/.test(prefix)) return false;
  return Number(prefix) <= (family === 4 ? 32 : 128);
}

function redisUrl(raw: unknown, name: string): string {
  const expected = "a redis://, rediss://, redis-sentinel://host:port[,host:port]/master-name or redis-cluster://host:port[,host:port] URL";
  if (typeof raw !== "string" || parseRedisTarget(raw) === undefined) throw invalidOption(name, expected, raw);
  return raw.trim();
}

function appPath(raw: unknown, name: string): string {
  const path = nonEmptyString("a path to an app module")(raw, name);
  if (!existsSync(path)) throw invalidOption(name, "a path to an existing app module", raw);
  return path;
}

function logLevel(raw: unknown, name: string): LogLevel {
  if (typeof raw !== "string" || !LOG_LEVELS.includes(raw as LogLevel)) {
    throw invalidOption(name, `one of ${LOG_LEVELS.join(", ")}`, raw);
  }
  return raw as LogLevel;
}

function nonNegativeNumber(raw: unknown, name: string): number {
  const value = typeof raw === "string" && raw.trim() !== "" ? Number(raw) : raw;
  if (typeof value !== "number" || !Number.isFinite(value) || value < 0) {
    throw invalidOption(name, "a number >= 0", raw);
  }
  return value;
}

function metricsSetting(raw: unknown, name: string): MetricsSetting {
  if (raw === "on" || raw === "off") return raw;
  return integer(1, 65535, "on, off, or a port number from 1 to 65535")(raw, name);
}

function adminCredentials(raw: unknown, name: string): string {
  const expected = "USER:PASSWORD with a password of at least 8 characters";
  if (typeof raw !== "string") throw invalidOption(name, expected, raw);
  const colon = raw.indexOf(":");
  // The password itself is never echoed back in the message.
  if (colon <= 0 || raw.length - colon - 1 < 8) throw invalidOption(name, expected, colon > 0 ? `${raw.slice(0, colon)}:***` : "***");
  return raw;
}

/** An RFC 6265 cookie name: a token (no separators), 64 characters at most. */
export function isCookieName(value: string): boolean {
  return /^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,64}$/.test(value);
}

function cookieName(raw: unknown, name: string): string {
  if (typeof raw !== "string" || !isCookieName(raw)) throw invalidOption(name, "a cookie name (letters, digits, - _ . and the like)", raw);
  return raw;
}

const MAX_MS = 24 * 3600 * 1000;

/** One row per option: its flag, its environment variable and how its value is checked. */
export const OPTION_SPECS: Readonly<Record<OptionName, OptionSpec>> = {
  port: {
    flag: "port",
    env: "PORT",
    description: "public port of the primary (0: any free port)",
    defaultText: "3000",
    parse: integer(0, 65535, "a port number from 0 to 65535"),
  },
  host: { flag: "host", env: "HOST", description: "bind address of the public port", defaultText: "0.0.0.0", parse: nonEmptyString("a bind address") },
  workers: { flag: "workers", env: "WORKERS", description: "worker processes", defaultText: "available CPUs", parse: integer(1, 1024, "a positive integer") },
  redis: {
    flag: "redis",
    env: "REDIS_URL",
    description: "redis://, rediss://, redis-sentinel://\u2026 or redis-cluster://\u2026 URL; without it, single-machine mode (IPC)",
    defaultText: "none",
    parse: redisUrl,
  },
  app: {
    flag: "app",
    env: "GATEWAY_APP",
    description: "path of the app module (default export (ctx) => void, optional `options` export)",
    defaultText: "bundled demo app",
    parse: appPath,
  },
  trustProxy: {
    flag: "trust-proxy",
    env: "TRUST_PROXY",
    description: "comma-separated IPs/CIDRs whose connections are routed by X-Forwarded-For / X-Real-IP",
    defaultText: "none",
    parse: list("comma-separated IPs or CIDRs", isIpOrCidr),
  },
  workerPortBase: {
    flag: "worker-port-base",
    env: "WORKER_PORT_BASE",
    description: "worker i also listens on base+i (direct upstreams for a proxy)",
    defaultText: "none",
    parse: integer(1, 65535, "a port number from 1 to 65535"),
  },
  emitToken: {
    flag: "emit-token",
    env: "EMIT_TOKEN",
    description: "bearer token that enables POST /emit",
    defaultText: "none",
    parse: nonEmptyString("a non-empty token"),
  },
  corsOrigin: {
    flag: "cors-origin",
    env: "CORS_ORIGIN",
    description: "comma-separated allowed origins; * allows any",
    defaultText: "none (same origin)",
    parse: list("comma-separated origins", (o) => o === "*" || /^https?:\/\/[^/\s]+$/.test(o)),
  },
  shutdownTimeout: {
    flag: "shutdown-timeout",
    env: "SHUTDOWN_TIMEOUT",
    description: "ms to drain on SIGTERM/SIGINT before workers are killed",
    defaultText: "10000",
    parse: integer(0, MAX_MS, "a duration in ms (integer >= 0)"),
  },
  startTimeout: {
    flag: "start-timeout",
    env: "START_TIMEOUT",
    description: "ms for every worker to become ready at start (app set up, adapter connected); past it, start exits 1 naming the cause",
    defaultText: "30000",
    parse: integer(1, MAX_MS, "a duration in ms (integer >= 1)"),
  },
  headerTimeout: {
    flag: "header-timeout",
    env: "HEADER_TIMEOUT",
    description: "ms a connection may take to send its first request head (then 408)",
    defaultText: "10000",
    parse: integer(1, MAX_MS, "a duration in ms (integer >= 1)"),
  },
  maxHeaderSize: {
    flag: "max-header-size",
    env: "MAX_HEADER_SIZE",
    description: "bytes of request head a request may have (then 431)",
    defaultText: "16384",
    parse: integer(256, 1 << 20, "a size in bytes from 256 to 1048576"),
  },
  rateLimit: {
    flag: "rate-limit",
    env: "RATE_LIMIT",
    description: "events per second one socket may send; 0 turns it off",
    defaultText: "50",
    parse: nonNegativeNumber,
  },
  maxPendingHeads: {
    flag: "max-pending-heads",
    env: "MAX_PENDING_HEADS",
    description: "connections still sending their first request head, all clients together; each worker holds its share (then 503)",
    defaultText: "10000",
    parse: integer(1, 10_000_000, "an integer >= 1"),
  },
  maxConnsPerIp: {
    flag: "max-conns-per-ip",
    env: "MAX_CONNS_PER_IP",
    description: "open connections and sessions one client IP may hold; 0 turns it off",
    defaultText: "1000",
    parse: integer(0, 10_000_000, "an integer >= 0"),
  },
  logLevel: { flag: "log-level", env: "LOG_LEVEL", description: "fatal, error, warn, info, debug, trace or silent", defaultText: "info", parse: logLevel },
  metrics: {
    flag: "metrics",
    env: "METRICS",
    description: "GET /metrics: on, off, or a port the primary serves it on alone",
    defaultText: "on",
    parse: metricsSetting,
  },
  adminUi: {
    flag: "admin-ui",
    env: "ADMIN_UI",
    description: "USER:PASSWORD enabling @socket.io/admin-ui at /admin-ui/",
    defaultText: "none",
    parse: adminCredentials,
  },
  cookie: {
    flag: "cookie",
    env: "COOKIE",
    description: "Engine.IO session cookie name; routes requests without sid= by it",
    defaultText: "none",
    parse: cookieName,
  },
  adminPort: {
    flag: "admin-port",
    env: "ADMIN_PORT",
    description: "port for /metrics, /admin-ui and POST /emit alone (the public port then answers 404 for them)",
    defaultText: "none",
    parse: integer(1, 65535, "a port number from 1 to 65535"),
  },
  adminHost: {
    flag: "admin-host",
    env: "ADMIN_HOST",
    description: "bind address of --admin-port",
    defaultText: "127.0.0.1",
    parse: nonEmptyString("a bind address"),
  },
  pidFile: {
    flag: "pid-file",
    env: "PID_FILE",
    description: "file the primary writes its pid to once ready (removed at exit): kill -HUP $(cat FILE) restarts the workers",
    defaultText: "none",
    parse: nonEmptyString("a file path"),
  },
};

/** The prefix of every option's environment variable: `SIO_GATEWAY_PORT`, `SIO_GATEWAY_REDIS_URL`. */
export const ENV_PREFIX = "SIO_GATEWAY_";

/**
 * An option's environment variables: the prefixed one, read first, and the bare legacy one
 * (`PORT`, `REDIS_URL`), still read for one release. `GATEWAY_APP` becomes `SIO_GATEWAY_APP`.
 */
export function envNames(spec: Pick<OptionSpec, "env">): { prefixed: string; legacy: string } {
  return { prefixed: `${ENV_PREFIX}${spec.env.replace(/^GATEWAY_/, "")}`, legacy: spec.env };
}

/** Environment variables whose values are secrets (tokens, passwords, URLs with credentials): kept out of workers' environments. */
export const SECRET_ENV_VARS: readonly string[] = [OPTION_SPECS.emitToken, OPTION_SPECS.adminUi, OPTION_SPECS.redis].flatMap((spec) => {
  const names = envNames(spec);
  return [names.prefixed, names.legacy];
});

/** The defaults, in one place. `workers` and `app` depend on the machine and the install, so they are computed. */
export function defaultOptions(): ResolvedOptions {
  return {
    port: 3000,
    host: "0.0.0.0",
    workers: availableParallelism(),
    redis: undefined,
    app: fileURLToPath(new URL("../demo-app/index.js", import.meta.url)),
    trustProxy: [],
    workerPortBase: undefined,
    emitToken: undefined,
    corsOrigin: [],
    shutdownTimeout: 10_000,
    startTimeout: 30_000,
    headerTimeout: 10_000,
    maxHeaderSize: 16_384,
    rateLimit: 50,
    maxConnsPerIp: 1000,
    maxPendingHeads: 10_000,
    logLevel: "info",
    metrics: "on",
    adminUi: undefined,
    cookie: undefined,
    adminPort: undefined,
    pidFile: undefined,
    adminHost: "127.0.0.1",
  };
}

/**
 * Validates every given option, merges with the defaults (`??`, so 0 and "" are kept and checked)
 * and freezes the result. Throws a GatewayError("ERR_INVALID_OPTION") naming the first bad option.
 */
export function resolveOptions(input: Record<string, unknown> = {}): ResolvedOptions {
  const resolved: Record<string, unknown> = { ...defaultOptions() };
  for (const [name, raw] of Object.entries(input)) {
    const spec = OPTION_SPECS[name as OptionName];
    if (!spec) throw invalidOption(name, `one of ${Object.keys(OPTION_SPECS).join(", ")}`, name);
    if (raw === undefined) continue;
    resolved[name] = spec.parse(raw, spec.flag) ?? resolved[name];
  }
  const options = resolved as ResolvedOptions;
  if (options.workerPortBase !== undefined && options.workerPortBase + options.workers - 1 > 65535) {
    throw invalidOption("worker-port-base", `a port such that port + workers - 1 <= 65535 (workers: ${options.workers})`, String(options.workerPortBase));
  }
  return Object.freeze({
    ...options,
    trustProxy: Object.freeze([...options.trustProxy]),
    corsOrigin: Object.freeze([...options.corsOrigin]),
  }) as ResolvedOptions;
}

/**
 * The bare variables the public interface documents (the option table of `sio-gateway start`):
 * a bad value there is a configuration error (exit 2 naming it), as it always was.
 */
const DOCUMENTED_BARE_ENV = new Set([
  "PORT",
  "HOST",
  "WORKERS",
  "REDIS_URL",
  "GATEWAY_APP",
  "TRUST_PROXY",
  "WORKER_PORT_BASE",
  "EMIT_TOKEN",
  "CORS_ORIGIN",
  "SHUTDOWN_TIMEOUT",
  "HEADER_TIMEOUT",
  "MAX_HEADER_SIZE",
  "RATE_LIMIT",
  "MAX_CONNS_PER_IP",
  "LOG_LEVEL",
  "START_TIMEOUT",
]);

/**
 * Raw option values from environment variables (the CLI lays its flags over these). The
 * prefixed name wins. A bare name of the documented table is passed on as it is (a bad one fails
 * start-up naming the option); any other bare name (`METRICS`, `COOKIE`, … are often set for
 * other programs) is read only when its value is valid, and `onIgnored` hears about each one
 * skipped. Prefixed values are passed on unchecked, so a bad one fails start-up naming the option.
 */
export function optionsFromEnv(env: NodeJS.ProcessEnv, onIgnored?: (message: string) => void): Record<string, string> {
  const raw: Record<string, string> = {};
  for (const [name, spec] of Object.entries(OPTION_SPECS)) {
    const { prefixed, legacy } = envNames(spec);
    const value = env[prefixed];
    if (value !== undefined && value !== "") {
      raw[name] = value;
      continue;
    }
    const old = env[legacy];
    if (old === undefined || old === "") continue;
    if (DOCUMENTED_BARE_ENV.has(legacy)) {
      raw[name] = old;
      continue;
    }
    try {
      spec.parse(old, spec.flag);
      raw[name] = old;
    } catch (error) {
      onIgnored?.(`ignoring ${legacy}: ${(error as Error).message} (set ${prefixed} to configure sio-gateway)`);
    }
  }
  return raw;
}
