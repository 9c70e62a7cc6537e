import type { FlagSpecs } from "./args.js";

/** One `sio-gateway` command: what `help` shows of it and what runs. */
export interface Command {
  name: string;
  /** One line for the command list. */
  summary: string;
  /** The usage line after `sio-gateway `: `emit --redis URL [options] EVENT [JSON]`. */
  usage: string;
  /** More lines for `help COMMAND`: arguments, precedence, examples. */
  notes?: string[];
  flags: FlagSpecs;
  /** Runs with the arguments after the command name; throws UsageError / RuntimeFailure / GatewayError. */
  run(args: string[]): Promise<void> | void;
}
