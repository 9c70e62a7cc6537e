/**
 * Entry point of a worker process (cluster `exec`): reads the resolved options and its slot
 * from the environment the primary set, then runs the worker.
 */
import type { ResolvedOptions } from "./options.js";
import { runWorker } from "./worker.js";

const options = JSON.parse(process.env.SIO_GATEWAY_OPTIONS ?? "{}") as ResolvedOptions;
const slot = Number(process.env.SIO_GATEWAY_SLOT);

runWorker(options, slot).catch((error: Error) => {
  process.stderr.write(`worker ${slot} failed to start: ${error.stack ?? error.message}\n`);
  process.exit(1);
});
