/**
 * Stable error codes. The README keeps a table of them (code | when | how to fix).
 */
export type GatewayErrorCode =
  | "ERR_INVALID_OPTION"
  | "ERR_LISTEN"
  | "ERR_WORKER_START"
  | "ERR_APP_SETUP"
  | "ERR_START_TIMEOUT"
  | "ERR_REDIS_UNAVAILABLE"
  | "ERR_INVALID_EMIT"
  | "ERR_INVALID_PRESENCE"
  | "ERR_PRESENCE_UNAVAILABLE";

/** Errors of a running system rather than of its configuration: the command line exits 1 for these, 2 for the rest. */
export const RUNTIME_ERROR_CODES: ReadonlySet<GatewayErrorCode> = new Set([
  "ERR_LISTEN",
  "ERR_APP_SETUP",
  "ERR_START_TIMEOUT",
  "ERR_REDIS_UNAVAILABLE",
  "ERR_PRESENCE_UNAVAILABLE",
]);

/** The one error class of sio-gateway: a stable `code` plus a message meant for a person. */
export class GatewayError extends Error {
  readonly code: GatewayErrorCode;

  constructor(code: GatewayErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "GatewayError";
    this.code = code;
  }
}

/** `invalid option "workers": expected a positive integer, got "-1"` */
export function invalidOption(name: string, expected: string, got: unknown): GatewayError {
  const shown = typeof got === "string" ? got : JSON.stringify(got);
  return new GatewayError("ERR_INVALID_OPTION", `invalid option "${name}": expected ${expected}, got "${shown}"`);
}
