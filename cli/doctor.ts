import { evaluateHost, formatChecks, readHost } from "../doctor/index.js";
import { existsSync } from "node:fs";
import { integerFlag, noArguments, parseCommandArgs } from "./args.js";
import type { Command } from "./command.js";
import { RuntimeFailure } from "./failures.js";

export const doctorCommand: Command = {
  name: "doctor",
  summary: "check the host's limits for N connections (read only); exit 1 if any is too low",
  usage: "doctor [--connections N] [--pid PID] [--json]",
  notes: ["Never suggests a value below the current one. With --pid, the open-files limit is the running gateway's, not this shell's."],
  flags: {
    connections: { kind: "string", value: "N", description: "concurrent client connections to plan for", defaultText: "10000" },
    pid: {
      kind: "string",
      value: "PID",
      description: "a running gateway's primary: read its open-files limit from /proc/PID/limits",
      defaultText: "this process",
    },
    json: { kind: "boolean", description: "print the checks as JSON" },
  },
  run(args) {
    const { values, positionals } = parseCommandArgs("doctor", args, this.flags);
    noArguments("doctor", positionals);
    const connections = integerFlag(values, "connections", 1, 1_000_000_000, "a positive integer") ?? 10_000;
    const pid = integerFlag(values, "pid", 1, 4_194_304, "a process id (positive integer)");
    if (pid !== undefined && !existsSync(`/proc/${pid}/limits`))
      throw new RuntimeFailure(`no running process ${pid} (give the gateway primary's pid, e.g. systemctl show -p MainPID sio-gateway)`);
    const checks = evaluateHost(readHost({ pid }), connections);
    const ok = checks.every((check) => check.ok);
    process.stdout.write(values.json === true ? `${JSON.stringify({ connections, ok, checks }, null, 2)}\n` : formatChecks(checks, connections));
    process.exitCode = ok ? 0 : 1;
  },
};
