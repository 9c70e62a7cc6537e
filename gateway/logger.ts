import { pino, type Logger } from "pino";
import pretty from "pino-pretty";
import type { LogLevel } from "./options.js";

export type { Logger } from "pino";

/**
 * The operators' log on stderr (stdout carries only the `ready:` line, so scripts can read it),
 * with bindings that say which process wrote the line: JSON lines, or human-readable lines
 * when stderr is a terminal.
 */
export function createLogger(level: LogLevel, bindings: Record<string, unknown>): Logger {
  const destination = process.stderr.isTTY ? pretty({ destination: 2, sync: true, ignore: "hostname" }) : pino.destination({ fd: 2, sync: true });
  return pino({ level, base: { pid: process.pid, ...bindings } }, destination);
}
