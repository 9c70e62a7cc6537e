import type { FlagSpec } from "./args.js";
import type { Command } from "./command.js";

/** Help text made from the commands' flag tables, so a new flag shows up without touching this file. */

function flagLine(name: string, spec: FlagSpec, width: number): string {
  const left = `--${name}${spec.value ? ` ${spec.value}` : ""}${spec.kind === "list" ? " ..." : ""}`;
  const dflt = spec.defaultText !== undefined ? ` (default: ${spec.defaultText})` : spec.kind === "boolean" ? " (default: off)" : "";
  return `  ${left.padEnd(width)}  ${spec.description}${dflt}`;
}

/** `sio-gateway help COMMAND`: usage, notes, then one line per flag with its description and default. */
export function commandHelp(command: Command): string {
  const entries = Object.entries(command.flags);
  const width = Math.max(...entries.map(([name, spec]) => `--${name}${spec.value ? ` ${spec.value}` : ""}${spec.kind === "list" ? " ..." : ""}`.length), 10);
  return [
    `usage: sio-gateway ${command.usage}`,
    "",
    command.summary,
    ...(command.notes && command.notes.length > 0 ? ["", ...command.notes] : []),
    "",
    "options:",
    ...entries.map(([name, spec]) => flagLine(name, spec, width)),
    `  ${"--help, -h".padEnd(width)}  this help`,
    "",
  ].join("\n");
}

/** `sio-gateway help`: the commands, one line each. */
export function overviewHelp(commands: readonly Command[]): string {
  const width = Math.max(...commands.map((command) => command.name.length));
  return [
    "usage: sio-gateway <command> [options]",
    "",
    "commands:",
    ...commands.map((command) => `  ${command.name.padEnd(width)}  ${command.summary}`),
    `  ${"help".padEnd(width)}  help [COMMAND]: a command's options, with a description and default each`,
    "",
    "sio-gateway --version prints the version; sio-gateway COMMAND --help that command's options.",
    "",
  ].join("\n");
}
