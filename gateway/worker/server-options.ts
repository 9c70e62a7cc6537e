import type { ServerOptions } from "socket.io";
import { GatewayError, invalidOption } from "../../common/errors.js";
import type { ResolvedOptions } from "../options.js";

/**
 * The Socket.IO options of every worker's `Server`: the app module's `options` export, checked,
 * with the operator's word on top. Apart from the two operator flags below, the gateway passes
 * the app's options through untouched, exactly as `new Server(httpServer, options)` would get them.
 *
 * - `adapter` is the gateway's (Redis or IPC): an app that sets it is refused.
 * - `--cors-origin` and `--cookie`, when given, replace the module's `cors` and `cookie`.
 *
 * Checked here, at start-up, so a typo fails with a line naming the option rather than a
 * worker that misbehaves later: the types of the options Engine.IO and Socket.IO read
 * (numbers of ms and bytes, the path, the transports, the parser, recovery). Unknown keys
 * pass (Engine.IO and ws options such as `wsEngine` or `allowRequest` are the app's business).
 */

/** A name as the error messages show it: `options.pingInterval` of the app module. */
const shown = (key: string): string => `options.${key}`;

const POSITIVE_INTEGER_MS = ["pingInterval", "pingTimeout", "connectTimeout", "upgradeTimeout"] as const;
const TRANSPORTS = ["polling", "websocket", "webtransport"];

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** `name` is the key as the error shows it, when nested (`connectionStateRecovery.maxDisconnectionDuration`). */
function checkPositiveInteger(options: Record<string, unknown>, key: string, expected: string, name = key): void {
  const value = options[key];
  if (value !== undefined && !(typeof value === "number" && Number.isSafeInteger(value) && value > 0)) throw invalidOption(shown(name), expected, value);
}

function checkBooleanOrObject(options: Record<string, unknown>, key: string): void {
  const value = options[key];
  if (value !== undefined && typeof value !== "boolean" && !isPlainObject(value)) throw invalidOption(shown(key), "true, false or an options object", value);
}

/** Checks the module's `options` export; returns it typed. Throws ERR_INVALID_OPTION naming the first bad one. */
export function checkAppServerOptions(raw: unknown): Partial<ServerOptions> {
  if (raw === undefined) return {};
  if (!isPlainObject(raw)) throw invalidOption("options", "an object of Socket.IO server options", raw);
  if ("adapter" in raw) {
    throw new GatewayError(
      "ERR_INVALID_OPTION",
      `invalid option "${shown("adapter")}": the gateway owns the adapter (Redis or IPC); remove it from the app module`,
    );
  }
  const path = raw.path;
  if (path !== undefined && !(typeof path === "string" && /^\/[^\s?#]*$/.test(path)))
    throw invalidOption(shown("path"), "a path starting with / (no spaces, ? or #)", path);
  for (const key of POSITIVE_INTEGER_MS) checkPositiveInteger(raw, key, "a duration in ms (integer > 0)");
  checkPositiveInteger(raw, "maxHttpBufferSize", "a size in bytes (integer > 0)");
  const transports = raw.transports;
  if (transports !== undefined && !(Array.isArray(transports) && transports.length > 0 && transports.every((name) => TRANSPORTS.includes(name as string)))) {
    throw invalidOption(shown("transports"), `a non-empty array of ${TRANSPORTS.join(", ")}`, transports);
  }
  const parser = raw.parser as { Encoder?: unknown; Decoder?: unknown } | undefined;
  if (parser !== undefined && !(isPlainObject(parser) && typeof parser.Encoder === "function" && typeof parser.Decoder === "function")) {
    throw invalidOption(shown("parser"), "a parser module with Encoder and Decoder (e.g. socket.io-msgpack-parser)", typeof parser);
  }
  for (const key of ["perMessageDeflate", "httpCompression", "cookie"]) checkBooleanOrObject(raw, key);
  const recovery = raw.connectionStateRecovery;
  if (recovery !== undefined) {
    if (!isPlainObject(recovery)) throw invalidOption(shown("connectionStateRecovery"), "an object { maxDisconnectionDuration?, skipMiddlewares? }", recovery);
    checkPositiveInteger(recovery, "maxDisconnectionDuration", "a duration in ms (integer > 0)", "connectionStateRecovery.maxDisconnectionDuration");
  }
  return raw;
}

/** The `cors` option of `--cors-origin`: `*` allows any origin (without credentials, as browsers require for `*`). */
export function corsFromFlag(origins: readonly string[]): ServerOptions["cors"] {
  if (origins.includes("*")) return { origin: "*" };
  return { origin: [...origins], credentials: true };
}

/** The options for `new Server()`, less `adapter` (the worker adds it): the app's, with the operator's flags on top. */
export function serverOptionsFor(app: Partial<ServerOptions>, gateway: ResolvedOptions): Partial<ServerOptions> {
  const options: Partial<ServerOptions> = { ...app };
  if (gateway.corsOrigin.length > 0) options.cors = corsFromFlag(gateway.corsOrigin);
  if (gateway.cookie) options.cookie = { name: gateway.cookie, path: "/", httpOnly: true, sameSite: "lax" };
  return options;
}
