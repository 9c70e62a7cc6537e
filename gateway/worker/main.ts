/**
 * Entry point of a worker process (cluster `exec`): waits for the primary's "configure"
 * message (options and slot, over IPC rather than the environment), validates the options
 * again, then runs the worker.
 */
import { GatewayError } from "../../common/errors.js";
import { WORKER_EXIT_CONFIG } from "../exit-codes.js";
import { asPrimaryMessageOf, ipcMessage, type ConfigureMessage, type WorkerToPrimary } from "../ipc.js";
import { resolveOptions } from "../options.js";
import { runWorker } from "./worker.js";

function onMessage(raw: unknown): void {
  const message = asPrimaryMessageOf(raw, "configure");
  if (!message) return;
  process.off("message", onMessage);
  start(message);
}

function start({ options: raw, slot }: ConfigureMessage): void {
  let options;
  try {
    options = resolveOptions(raw);
  } catch (error) {
    process.stderr.write(`worker ${slot}: ${(error as Error).message}\n`);
    process.exit(error instanceof GatewayError ? WORKER_EXIT_CONFIG : 1);
  }
  // Anything else that throws before "ready" is a start failure too: the primary is told, so a
  // gateway that cannot start exits instead of respawning its workers forever.
  runWorker(options, slot).catch((error: Error) => {
    process.stderr.write(`worker ${slot} failed to start: ${error.stack ?? error.message}\n`);
    const failed = ipcMessage<WorkerToPrimary>({ type: "start-failed", configuration: false, message: error.message });
    if (!process.connected || !process.send) process.exit(1);
    process.send(failed, undefined, {}, () => process.exit(1));
  });
}

process.on("message", onMessage);
process.send?.(ipcMessage<WorkerToPrimary>({ type: "configure-request" }));
