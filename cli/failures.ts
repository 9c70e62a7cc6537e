/**
 * The two ways a command fails, and the exit code each gets: a usage error (bad flag, bad
 * value, missing argument: the user's command line is wrong) exits 2; a runtime failure
 * (Redis unreachable, a file that cannot be written: the command line was fine) exits 1.
 * Both print one line on stderr.
 */
import { GatewayError, RUNTIME_ERROR_CODES } from "../common/errors.js";

export const EXIT_RUNTIME = 1;
export const EXIT_USAGE = 2;

/** The command line is wrong: exit 2. */
export class UsageError extends Error {}

/** The command line was right but the work failed: exit 1. */
export class RuntimeFailure extends Error {}

/** The exit code for an error a command threw. */
export function exitCodeFor(error: unknown): number {
  if (error instanceof UsageError) return EXIT_USAGE;
  if (error instanceof GatewayError) return RUNTIME_ERROR_CODES.has(error.code) ? EXIT_RUNTIME : EXIT_USAGE;
  return EXIT_RUNTIME;
}

/** One line for stderr: the message without its stack (SIO_GATEWAY_DEBUG=1 adds the stack for a bug report). */
export function errorLine(error: unknown, env: NodeJS.ProcessEnv = process.env): string {
  const message = error instanceof Error ? error.message : String(error);
  const firstLine = message.split("\n")[0];
  const stack = env.SIO_GATEWAY_DEBUG && error instanceof Error && error.stack ? `\n${error.stack}` : "";
  return `sio-gateway: ${firstLine}${stack}\n`;
}
