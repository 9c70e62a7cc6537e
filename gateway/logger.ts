import { pino, type Logger } from "pino";
import type { LogLevel } from "./options.js";

export type { Logger } from "pino";

/**
 * The operators' log: JSON lines on stderr (stdout carries only the `ready:` line, so scripts
 * can read it), with bindings that say which process wrote the line.
 */
export function createLogger(level: LogLevel, bindings: Record<string, unknown>): Logger {
  return pino({ level, base: { pid: process.pid, ...bindings } }, pino.destination({ fd: 2, sync: true }));
}
