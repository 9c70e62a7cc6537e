import { OPTION_SPECS, envNames, optionsFromEnv } from "../gateway/options.js";
import { readyLine, startGateway } from "../gateway/start.js";
import { noArguments, parseCommandArgs, stringFlag, type FlagSpec } from "./args.js";
import type { Command } from "./command.js";
import { readConfigFile } from "./config-file.js";

/** The flags of `start`: one per gateway option (from OPTION_SPECS, so a new option is a new flag), plus `--config`. */
function startFlags(): Record<string, FlagSpec> {
  const flags: Record<string, FlagSpec> = {};
  for (const spec of Object.values(OPTION_SPECS)) {
    flags[spec.flag] = {
      kind: "string",
      value: "VALUE",
      description: `${spec.description ?? ""} [env ${envNames(spec).prefixed}]`.trim(),
      defaultText: spec.defaultText ?? "none",
    };
  }
  flags.config = {
    kind: "string",
    value: "FILE",
    description: 'JSON file of options ({"workers": 4, "redis": "redis://…"}); flags and env win over it',
    defaultText: "none",
  };
  return flags;
}

/**
 * The raw options of `start`, weakest first: the config file, the environment, the flags.
 * Environment variables are the operator's per-host word over a shared file, flags the
 * word of this one invocation.
 */
export function startOptions(values: Record<string, unknown>, env: NodeJS.ProcessEnv, warn: (line: string) => void): Record<string, unknown> {
  const config = typeof values.config === "string" ? readConfigFile(values.config) : {};
  const raw: Record<string, unknown> = { ...config, ...optionsFromEnv(env, warn) };
  for (const [name, spec] of Object.entries(OPTION_SPECS)) {
    const value = values[spec.flag];
    if (value !== undefined) raw[name] = value;
  }
  return raw;
}

export const startCommand: Command = {
  name: "start",
  summary: "run the gateway: a primary on one public port and N Socket.IO workers",
  usage: "start [options]",
  notes: [
    "Each option is read, strongest first, from its flag, its environment variable (SIO_GATEWAY_*; the old",
    "unprefixed names are still read for one release, when their value is valid) and --config FILE.",
    "Prints `ready: http://HOST:PORT (N workers, adapter=redis|cluster)` once every worker is ready.",
  ],
  flags: startFlags(),
  async run(args) {
    const { values, positionals } = parseCommandArgs("start", args, this.flags);
    noArguments("start", positionals);
    const raw = startOptions({ ...values, config: stringFlag(values, "config") }, process.env, (line) =>
      process.stderr.write(`sio-gateway: warning: ${line}\n`),
    );
    const gateway = await startGateway(raw);
    const stop = (): void => {
      void gateway.close().then(() => process.exit(0));
    };
    process.on("SIGTERM", stop);
    process.on("SIGINT", stop);
    // kill -HUP <primary pid>: new code or config of the app module, without dropping everyone at once.
    process.on("SIGHUP", () => void gateway.reload());
    process.stdout.write(`${readyLine(gateway)}\n`);
  },
};
