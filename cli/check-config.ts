import { resolveOptions } from "../gateway/options.js";
import { parseCommandArgs } from "./args.js";
import type { Command } from "./command.js";
import { readConfigFile } from "./config-file.js";
import { UsageError } from "./failures.js";

/** Options whose values are secrets: check-config names them but never prints them. */
const SECRET_OPTIONS = new Set(["emitToken", "adminUi", "redis"]);

export const checkConfigCommand: Command = {
  name: "check-config",
  summary: "check a --config JSON file (and the app module's Socket.IO options) without starting anything",
  usage: "check-config FILE",
  notes: ["Exit 0 and one line when FILE would start; exit 2 and one line naming the bad option otherwise."],
  flags: {},
  async run(args) {
    const { positionals } = parseCommandArgs("check-config", args, this.flags);
    const [file, extra] = positionals;
    if (file === undefined) throw new UsageError("missing FILE: sio-gateway check-config FILE");
    if (extra !== undefined) throw new UsageError(`unexpected argument "${extra}" for "sio-gateway check-config"`);
    const raw = readConfigFile(file);
    const options = resolveOptions(raw);
    // The app's own `options` export is part of the configuration: check it the way a worker will.
    const { loadAppModule } = await import("../gateway/worker/app-module.js");
    const { checkAppServerOptions } = await import("../gateway/worker/server-options.js");
    checkAppServerOptions((await loadAppModule(options.app)).options);
    const shown = Object.keys(raw).map((name) => (SECRET_OPTIONS.has(name) ? `${name}=***` : `${name}=${JSON.stringify(raw[name])}`));
    process.stdout.write(`ok: ${file}${shown.length > 0 ? ` (${shown.join(", ")})` : " (no options: all defaults)"}\n`);
  },
};
