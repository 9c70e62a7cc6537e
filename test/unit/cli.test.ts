/** The command line's pure parts: flag parsing, did-you-mean, option sources and their order, help text. */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { parseCommandArgs, wantsHelp } from "../../cli/args.js";
import { readConfigFile } from "../../cli/config-file.js";
import { closestName, editDistance } from "../../cli/did-you-mean.js";
import { exitCodeFor, RuntimeFailure, UsageError } from "../../cli/failures.js";
import { commandHelp } from "../../cli/help.js";
import { startCommand, startOptions } from "../../cli/start.js";
import { GatewayError } from "../../common/errors.js";
import { OPTION_SPECS, SECRET_ENV_VARS, optionsFromEnv, resolveOptions } from "../../gateway/options.js";

function usageMessage(action: () => unknown): string {
  try {
    action();
  } catch (error) {
    assert.ok(error instanceof UsageError, `expected a UsageError, got ${String(error)}`);
    return error.message;
  }
  assert.fail("expected a UsageError");
}

describe("did you mean", () => {
  it("finds typos, swaps and prefixes, and nothing for unrelated words", () => {
    assert.equal(editDistance("wokers", "workers"), 1);
    assert.equal(editDistance("wrokers", "workers"), 1);
    assert.equal(closestName("stat", ["start", "emit", "nginx"]), "start");
    assert.equal(closestName("ngnix", ["start", "emit", "nginx"]), "nginx");
    assert.equal(closestName("check", ["start", "check-config"]), "check-config");
    assert.equal(closestName("banana", ["start", "emit", "nginx"]), undefined);
  });

  it("suggests the flag in the usage error", () => {
    const message = usageMessage(() => parseCommandArgs("start", ["--wokers", "2"], startCommand.flags));
    assert.equal(message, 'unknown option "--wokers" for "sio-gateway start" (did you mean "--workers"?) (see sio-gateway help start)');
    assert.match(
      usageMessage(() => parseCommandArgs("start", ["-workers", "2"], startCommand.flags)),
      /did you mean "--workers"/,
    );
    assert.doesNotMatch(
      usageMessage(() => parseCommandArgs("start", ["--zzzzzz"], startCommand.flags)),
      /did you mean/,
    );
  });
});

describe("parseCommandArgs", () => {
  it("reads --flag value, --flag=value, lists, booleans and --", () => {
    const flags = { to: { kind: "list", description: "" }, out: { kind: "string", description: "" }, full: { kind: "boolean", description: "" } } as const;
    const parsed = parseCommandArgs("x", ["--to", "a", "--to=b", "--full", "--out", "-1", "EVENT", "--", "--not-a-flag"], flags);
    assert.deepEqual(parsed.values, { to: ["a", "b"], full: true, out: "-1" });
    assert.deepEqual(parsed.positionals, ["EVENT", "--not-a-flag"]);
    assert.match(
      usageMessage(() => parseCommandArgs("x", ["--out"], flags)),
      /^invalid option "out": expected a value/,
    );
    assert.match(
      usageMessage(() => parseCommandArgs("x", ["--full=yes"], flags)),
      /^invalid option "full": expected no value/,
    );
  });

  it("knows --help and -h, but not after --", () => {
    assert.equal(wantsHelp(["--port", "1", "--help"]), true);
    assert.equal(wantsHelp(["-h"]), true);
    assert.equal(wantsHelp(["--", "-h"]), false);
  });
});

describe("exit codes", () => {
  it("2 for usage and bad options, 1 for runtime failures", () => {
    assert.equal(exitCodeFor(new UsageError("x")), 2);
    assert.equal(exitCodeFor(new GatewayError("ERR_INVALID_OPTION", "x")), 2);
    assert.equal(exitCodeFor(new GatewayError("ERR_REDIS_UNAVAILABLE", "x")), 1);
    assert.equal(exitCodeFor(new RuntimeFailure("x")), 1);
    assert.equal(exitCodeFor(new Error("x")), 1);
  });
});

describe("option sources", () => {
  const dir = mkdtempSync(join(tmpdir(), "sio-cli-"));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("every option has a description and a default for help", () => {
    for (const [name, spec] of Object.entries(OPTION_SPECS)) {
      assert.ok(spec.description, `${name} has no description`);
      assert.ok(spec.defaultText, `${name} has no defaultText`);
    }
    const help = commandHelp(startCommand);
    for (const spec of Object.values(OPTION_SPECS)) assert.match(help, new RegExp(`--${spec.flag} VALUE .*\\(default: `));
    assert.match(help, /--config FILE/);
  });

  it("prefixed variables win; documented bare names are read as they are, other bare names only when valid (skipped with a warning)", () => {
    const warnings: string[] = [];
    const raw = optionsFromEnv({ SIO_GATEWAY_PORT: "4000", PORT: "5000", WORKERS: "2", METRICS: "true", SIO_GATEWAY_APP: "/nope", GATEWAY_APP: "/x" }, (line) =>
      warnings.push(line),
    );
    assert.deepEqual(raw, { port: "4000", workers: "2", app: "/nope" });
    assert.equal(warnings.length, 1);
    assert.match(
      warnings[0],
      /^ignoring METRICS: invalid option "metrics": expected on, off, or a port number .* \(set SIO_GATEWAY_METRICS to configure sio-gateway\)$/,
    );
    // A bad prefixed value is the operator's: it fails start-up naming the option.
    assert.throws(() => resolveOptions(optionsFromEnv({ SIO_GATEWAY_METRICS: "true" })), /invalid option "metrics"/);
    // So is a bad value in a variable of the documented table (WORKERS, PORT, …): exit 2 naming it, as always.
    assert.throws(() => resolveOptions(optionsFromEnv({ WORKERS: "zero" })), /invalid option "workers"/);
  });

  it("keeps prefixed and legacy secrets out of the workers' environment", () => {
    for (const name of ["SIO_GATEWAY_EMIT_TOKEN", "EMIT_TOKEN", "SIO_GATEWAY_REDIS_URL", "REDIS_URL", "SIO_GATEWAY_ADMIN_UI", "ADMIN_UI"])
      assert.ok(SECRET_ENV_VARS.includes(name), name);
  });

  it("--config FILE: option names or flags, app relative to the file; flags beat env beat the file", () => {
    const app = join(dir, "app.mjs");
    writeFileSync(app, "export default () => {};\n");
    const file = join(dir, "gateway.json");
    writeFileSync(file, JSON.stringify({ port: 4100, "log-level": "warn", workers: 3, app: "./app.mjs", rateLimit: 7 }));
    assert.deepEqual(readConfigFile(file), { port: 4100, logLevel: "warn", workers: 3, app, rateLimit: 7 });
    const raw = startOptions({ config: file, workers: "5" }, { SIO_GATEWAY_PORT: "4200", SIO_GATEWAY_WORKERS: "4" }, () => {});
    const options = resolveOptions(raw);
    assert.equal(options.workers, 5, "the flag wins");
    assert.equal(options.port, 4200, "the environment beats the file");
    assert.equal(options.rateLimit, 7, "the file fills in the rest");
    assert.equal(options.app, app);
  });

  it("--config FILE: bad JSON, a non-object and an unknown key are usage errors naming the problem", () => {
    const bad = join(dir, "bad.json");
    writeFileSync(bad, "{ port: 1 }");
    assert.match(
      usageMessage(() => readConfigFile(bad)),
      /^config file ".*bad\.json" is not valid JSON: /,
    );
    writeFileSync(bad, "[1]");
    assert.match(
      usageMessage(() => readConfigFile(bad)),
      /expected a JSON object of options$/,
    );
    writeFileSync(bad, '{"wrokers": 2}');
    assert.match(
      usageMessage(() => readConfigFile(bad)),
      /unknown option "wrokers" \(did you mean "workers"\?\)$/,
    );
    assert.match(
      usageMessage(() => readConfigFile(join(dir, "missing.json"))),
      /does not exist$/,
    );
  });
});
