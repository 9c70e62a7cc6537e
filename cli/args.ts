import { invalidOption } from "../common/errors.js";
import { didYouMean } from "./did-you-mean.js";
import { UsageError } from "./failures.js";

/** How a command's flags are read: "string" takes a value, "list" may repeat, "boolean" takes none. */
export type FlagKind = "string" | "list" | "boolean";

/** One flag of a command, as data: the parser reads `kind`, `help` prints the rest. */
export interface FlagSpec {
  kind: FlagKind;
  /** One line for `help`. */
  description: string;
  /** The default as `help` shows it; omitted for booleans (off) and required flags. */
  defaultText?: string;
  /** The value's placeholder in `help`: `--listen PORT`. */
  value?: string;
}

export type FlagSpecs = Readonly<Record<string, FlagSpec>>;

export interface ParsedArgs {
  values: Record<string, string | string[] | boolean>;
  positionals: string[];
}

/** `--help` or `-h` among the flags (not after `--`). */
export function wantsHelp(args: readonly string[]): boolean {
  for (const arg of args) {
    if (arg === "--") return false;
    if (arg === "--help" || arg === "-h") return true;
  }
  return false;
}

/**
 * `--flag value`, `--flag=value`, repeated list flags, `--` ends the flags.
 * Hand-written rather than util.parseArgs, which refuses values that start with a dash
 * (`--workers -1` must say that -1 is not a positive integer, not that a value is missing),
 * and has no "did you mean".
 */
export function parseCommandArgs(command: string, args: readonly string[], flags: FlagSpecs): ParsedArgs {
  const values: ParsedArgs["values"] = {};
  const positionals: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === "--") {
      positionals.push(...args.slice(i + 1));
      break;
    }
    if (!arg.startsWith("--")) {
      // A single-dash word other than a lone "-" is a mistyped flag, not an argument.
      if (/^-[A-Za-z]/.test(arg)) throw unknownFlag(command, arg.replace(/^-+/, ""), flags);
      positionals.push(arg);
      continue;
    }
    const equals = arg.indexOf("=");
    const name = arg.slice(2, equals === -1 ? undefined : equals);
    const spec = Object.hasOwn(flags, name) ? flags[name] : undefined;
    if (spec === undefined) throw unknownFlag(command, name, flags);
    if (spec.kind === "boolean") {
      if (equals !== -1) throw new UsageError(invalidOption(name, "no value", arg.slice(equals + 1)).message);
      values[name] = true;
      continue;
    }
    let value: string | undefined;
    if (equals !== -1) value = arg.slice(equals + 1);
    else if (i + 1 < args.length) value = args[++i];
    if (value === undefined) throw new UsageError(invalidOption(name, spec.value ? `a value (${spec.value})` : "a value", "").message);
    if (spec.kind === "list") values[name] = [...((values[name] as string[] | undefined) ?? []), value];
    else values[name] = value;
  }
  return { values, positionals };
}

function unknownFlag(command: string, name: string, flags: FlagSpecs): UsageError {
  const hint = didYouMean(name, Object.keys(flags), (flag) => `--${flag}`);
  return new UsageError(`unknown option "--${name}" for "sio-gateway ${command}"${hint} (see sio-gateway help ${command})`);
}

/** A string flag's value, if given. */
export function stringFlag(values: ParsedArgs["values"], name: string): string | undefined {
  const value = values[name];
  return typeof value === "string" ? value : undefined;
}

/** A list flag's values, comma-separated entries split: `--upstream a,b --upstream c`. */
export function listFlag(values: ParsedArgs["values"], name: string): string[] {
  const value = values[name];
  const lists = Array.isArray(value) ? value : typeof value === "string" ? [value] : [];
  return lists
    .flatMap((list) => list.split(","))
    .map((entry) => entry.trim())
    .filter(Boolean);
}

/** An integer flag, checked: throws a usage error naming the flag. */
export function integerFlag(values: ParsedArgs["values"], name: string, min: number, max: number, expected: string): number | undefined {
  const raw = stringFlag(values, name);
  if (raw === undefined) return undefined;
  if (!/^\d{1,10}$/.test(raw) || Number(raw) < min || Number(raw) > max) throw new UsageError(invalidOption(name, expected, raw).message);
  return Number(raw);
}

/** Commands that take flags only: a stray argument is a usage error naming it. */
export function noArguments(command: string, positionals: readonly string[]): void {
  if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}" for "sio-gateway ${command}"`);
}
