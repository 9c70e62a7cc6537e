import { invalidOption } from "../common/errors.js";

/** How a command's flags are read: "string" takes a value, "list" may repeat, "boolean" takes none. */
export type FlagKind = "string" | "list" | "boolean";

export interface ParsedArgs {
  values: Record<string, string | string[] | boolean>;
  positionals: string[];
}

/** The one-line usage errors the CLI prints before exiting 2. */
export class UsageError extends Error {}

/**
 * `--flag value`, `--flag=value`, repeated list flags, `--` ends the flags.
 * Hand-written rather than util.parseArgs, which refuses values that start with a dash
 * (`--workers -1` must say that -1 is not a positive integer, not that a value is missing).
 */
export function parseCommandArgs(command: string, args: readonly string[], flags: Readonly<Record<string, FlagKind>>): ParsedArgs {
  const values: ParsedArgs["values"] = {};
  const positionals: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === "--") {
      positionals.push(...args.slice(i + 1));
      break;
    }
    if (!arg.startsWith("--") || arg === "--") {
      positionals.push(arg);
      continue;
    }
    const equals = arg.indexOf("=");
    const name = arg.slice(2, equals === -1 ? undefined : equals);
    const kind = flags[name];
    if (kind === undefined) throw new UsageError(`unknown option "--${name}" for "sio-gateway ${command}" (see sio-gateway --help)`);
    if (kind === "boolean") {
      if (equals !== -1) throw new UsageError(invalidOption(name, "no value", arg.slice(equals + 1)).message);
      values[name] = true;
      continue;
    }
    let value: string | undefined;
    if (equals !== -1) value = arg.slice(equals + 1);
    else if (i + 1 < args.length) value = args[++i];
    if (value === undefined) throw new UsageError(invalidOption(name, "a value", "").message);
    if (kind === "list") values[name] = [...((values[name] as string[] | undefined) ?? []), value];
    else values[name] = value;
  }
  return { values, positionals };
}
