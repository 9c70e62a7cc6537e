#!/usr/bin/env node
/**
 * `sio-gateway`: one thin command-line front over the modules. Each command is one file with
 * its flags as data; `help` is made from that data. Usage errors exit 2, runtime failures 1,
 * each with one line on stderr (cli/failures.ts).
 */
import { checkConfigCommand } from "./check-config.js";
import type { Command } from "./command.js";
import { didYouMean } from "./did-you-mean.js";
import { doctorCommand } from "./doctor.js";
import { emitCommand } from "./emit.js";
import { errorLine, exitCodeFor, UsageError } from "./failures.js";
import { haproxyCommand } from "./haproxy.js";
import { commandHelp, overviewHelp } from "./help.js";
import { nginxCommand } from "./nginx.js";
import { startCommand } from "./start.js";
import { packageVersion } from "../common/package-version.js";
import { wantsHelp } from "./args.js";

const COMMANDS: readonly Command[] = [startCommand, emitCommand, nginxCommand, haproxyCommand, doctorCommand, checkConfigCommand];

function findCommand(name: string): Command {
  const command = COMMANDS.find((candidate) => candidate.name === name);
  if (command) return command;
  const names = [...COMMANDS.map((candidate) => candidate.name), "help"];
  throw new UsageError(`unknown command "${name}"${didYouMean(name, names)} (commands: ${names.join(", ")}; see sio-gateway help)`);
}

async function main(argv: string[]): Promise<void> {
  const [name, ...rest] = argv;
  if (name === undefined || name === "--help" || name === "-h") {
    process.stdout.write(overviewHelp(COMMANDS));
    return;
  }
  if (name === "--version" || name === "-V" || name === "version") {
    process.stdout.write(`${packageVersion()}\n`);
    return;
  }
  if (name === "help") {
    const [topic, extra] = rest;
    if (extra !== undefined) throw new UsageError(`unexpected argument "${extra}" for "sio-gateway help"`);
    process.stdout.write(topic === undefined ? overviewHelp(COMMANDS) : commandHelp(findCommand(topic)));
    return;
  }
  if (name.startsWith("-")) throw new UsageError(`expected a command before "${name}" (see sio-gateway help)`);
  const command = findCommand(name);
  if (wantsHelp(rest)) {
    process.stdout.write(commandHelp(command));
    return;
  }
  await command.run(rest);
}

main(process.argv.slice(2)).catch((error: unknown) => {
  process.stderr.write(errorLine(error));
  // exit now: a failed start may have forked workers, and a failed emit may hold a Redis connection.
  process.exit(exitCodeFor(error));
});
