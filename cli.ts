#!/usr/bin/env node
/**
 * `sio-gateway`: one thin command-line front over the modules.
 *   sio-gateway start [options]   run the gateway (primary + workers)
 * Bad usage exits 2 with one line on stderr naming the option.
 */
import { parseCommandArgs, UsageError, type FlagKind } from "./cli-args.js";
import { GatewayError } from "./gateway/errors.js";
import { OPTION_SPECS, optionsFromEnv } from "./gateway/options.js";
import { readyLine, startGateway } from "./gateway/start.js";

const EXIT_USAGE = 2;

const USAGE = `usage: sio-gateway <command> [options]

commands:
  start     run the gateway: a primary on one public port and N Socket.IO workers

start options (each also read from its environment variable):
${Object.values(OPTION_SPECS)
  .map((spec) => `  --${spec.flag.padEnd(20)} ${spec.env}`)
  .join("\n")}
`;

/** Prints one line and exits 2: the contract for bad usage. */
function usageError(message: string): never {
  process.stderr.write(`sio-gateway: ${message}\n`);
  process.exit(EXIT_USAGE);
}

async function start(args: string[]): Promise<void> {
  const flags = Object.fromEntries(Object.values(OPTION_SPECS).map((spec) => [spec.flag, "string" as FlagKind]));
  const { values, positionals } = parseCommandArgs("start", args, flags);
  if (positionals.length > 0) usageError(`unexpected argument "${positionals[0]}" for "sio-gateway start"`);
  const raw: Record<string, unknown> = optionsFromEnv(process.env);
  for (const [name, spec] of Object.entries(OPTION_SPECS)) {
    const value = values[spec.flag];
    if (value !== undefined) raw[name] = value;
  }
  let gateway;
  try {
    gateway = await startGateway(raw);
  } catch (error) {
    if (error instanceof GatewayError) {
      process.stderr.write(`sio-gateway: ${error.message}\n`);
      process.exit(error.code === "ERR_LISTEN" ? 1 : EXIT_USAGE);
    }
    throw error;
  }
  const stop = (): void => {
    void gateway.close().then(() => process.exit(0));
  };
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
  process.stdout.write(`${readyLine(gateway)}\n`);
}

async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  switch (command) {
    case "start":
      return start(rest);
    case undefined:
    case "help":
    case "--help":
    case "-h":
      process.stdout.write(USAGE);
      return;
    default:
      usageError(`unknown command "${command}" (expected start; see sio-gateway --help)`);
  }
}

main(process.argv.slice(2)).catch((error: Error) => {
  if (error instanceof UsageError) usageError(error.message);
  process.stderr.write(`sio-gateway: ${error.stack ?? error.message}\n`);
  process.exit(1);
});
