import cluster from "node:cluster";
import { rmSync, writeFileSync } from "node:fs";
import type { AdapterKind } from "../adapter/index.js";
import { GatewayError } from "../common/errors.js";
import { createLogger } from "./logger.js";
import { resolveOptions, type GatewayOptions, type ResolvedOptions } from "./options.js";
import { Primary } from "./primary/primary.js";

/** A running gateway, as `startGateway()` resolves it. */
export interface Gateway {
  /** The public port (useful with `port: 0`). */
  readonly port: number;
  /** The options in force, after defaults and validation. */
  readonly options: ResolvedOptions;
  /** How workers share rooms and broadcasts. */
  readonly adapter: AdapterKind;
  /** Graceful stop (drain, then kill after `shutdownTimeout`). Idempotent. */
  close(): Promise<void>;
  /** Rolling restart: each worker is replaced by a new one, one slot at a time. */
  reload(): Promise<void>;
}

/**
 * Starts the primary and its workers in this process (which must be a cluster primary), and
 * resolves once every worker is ready. Options are validated first: a bad one rejects with a
 * GatewayError("ERR_INVALID_OPTION") and nothing starts.
 */
export async function startGateway(input: GatewayOptions = {}): Promise<Gateway> {
  if (!cluster.isPrimary) throw new GatewayError("ERR_WORKER_START", "startGateway() must be called in the primary process");
  const options = resolveOptions(input as Record<string, unknown>);
  const logger = createLogger(options.logLevel, { role: "primary" });
  const primary = new Primary(options, logger);
  const port = await primary.start();
  const pidFile = options.pidFile;
  if (pidFile) {
    try {
      writePidFile(pidFile);
    } catch (error) {
      await primary.close();
      throw error;
    }
  }
  return {
    port,
    options,
    adapter: options.redis ? "redis" : "cluster",
    close: () => primary.close().finally(() => pidFile && rmSync(pidFile, { force: true })),
    reload: () => primary.reload(),
  };
}

/** `--pid-file`: written once ready, so a script that reads it finds a gateway that serves. */
function writePidFile(path: string): void {
  try {
    writeFileSync(path, `${process.pid}\n`);
  } catch (error) {
    throw new GatewayError("ERR_LISTEN", `cannot write --pid-file ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
}

/** The line `sio-gateway start` prints once the gateway is ready. */
export function readyLine(gateway: Gateway): string {
  return `ready: http://${gateway.options.host}:${gateway.port} (${gateway.options.workers} workers, adapter=${gateway.adapter})`;
}
