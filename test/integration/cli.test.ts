/**
 * `sio-gateway` as a user types it: help and version, did-you-mean, exit codes (2 usage, 1 runtime),
 * one-line errors, --config and SIO_GATEWAY_* for start, check-config, and `--app` for the edge generators.
 */
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { GatewayProcess, runCli, type ExitResult } from "../helpers/gateway-process.js";
import { freePort } from "../helpers/ports.js";

const VERSION = (JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string }).version;

/** One line on stderr, no stack frame, and the exit code. */
function assertOneLineError(result: ExitResult, code: number, pattern: RegExp): void {
  assert.equal(result.code, code, `exit code; stderr: ${result.stderr}`);
  assert.match(result.stderr, /^sio-gateway: [^\n]+\n$/, `one line expected, got: ${result.stderr}`);
  assert.doesNotMatch(result.stderr, /\n\s+at /);
  assert.match(result.stderr, pattern);
}

describe("sio-gateway command line", () => {
  const dir = mkdtempSync(join(tmpdir(), "sio-cli-it-"));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("--version prints the package version", async () => {
    const result = await runCli(["--version"]);
    assert.equal(result.code, 0);
    assert.equal(result.stdout, `${VERSION}\n`);
  });

  it("help, help COMMAND, COMMAND --help and -h print the options with a default each, exit 0", async () => {
    const overview = await runCli(["help"]);
    assert.equal(overview.code, 0);
    for (const command of ["start", "emit", "nginx", "haproxy", "doctor", "check-config"]) assert.match(overview.stdout, new RegExp(`^  ${command} `, "m"));
    for (const args of [
      ["help", "start"],
      ["start", "--help"],
      ["start", "-h"],
      ["nginx", "--help"],
      ["haproxy", "-h"],
      ["emit", "--help"],
      ["doctor", "-h"],
    ]) {
      const result = await runCli(args);
      assert.equal(result.code, 0, `${args.join(" ")}: ${result.stderr}`);
      const flagLines = result.stdout.split("\n").filter((line) => /^ {2}--/.test(line) && !line.includes("--help"));
      assert.ok(flagLines.length >= 3, `${args.join(" ")} lists its flags`);
      for (const line of flagLines) assert.match(line, /\S {2,}\S.*\(default: /, `${args.join(" ")}: no description or default in "${line}"`);
    }
    assert.match((await runCli(["start", "--help"])).stdout, /--workers VALUE +worker processes \[env SIO_GATEWAY_WORKERS\] \(default: available CPUs\)/);
  });

  it("did you mean, for commands and flags; usage errors exit 2", async () => {
    assertOneLineError(await runCli(["strat"]), 2, /unknown command "strat" \(did you mean "start"\?\)/);
    assertOneLineError(await runCli(["start", "--wokers", "2"]), 2, /unknown option "--wokers" .*\(did you mean "--workers"\?\)/);
    assertOneLineError(await runCli(["nginx", "--upstrem", "127.0.0.1:1"]), 2, /did you mean "--upstream"/);
    assertOneLineError(await runCli(["help", "ngnix"]), 2, /did you mean "nginx"/);
    assertOneLineError(await runCli(["emit", "--redis", "redis://127.0.0.1:1", "event", "{bad json"]), 2, /invalid option "JSON"/);
    assertOneLineError(await runCli(["start", "--workers", "-1"]), 2, /invalid option "workers": expected a positive integer, got "-1"/);
  });

  it("runtime failures exit 1 with one line: emit with Redis unreachable, --out in a missing folder, doctor --pid of no process", async () => {
    const closed = await freePort();
    assertOneLineError(
      await runCli(["emit", "--redis", `redis://127.0.0.1:${closed}`, "--timeout", "1000", "event", "{}"]),
      1,
      new RegExp(`Redis at redis://127\\.0\\.0\\.1:${closed} is unavailable`),
    );
    const out = join(dir, "missing", "x.conf");
    assertOneLineError(await runCli(["haproxy", "--upstream", "127.0.0.1:3001", "--out", out]), 1, /cannot write ".*x\.conf": no such directory/);
    assertOneLineError(await runCli(["nginx", "--upstream", "127.0.0.1:3001", "--out", out]), 1, /cannot write/);
    assertOneLineError(await runCli(["doctor", "--pid", "4194000"]), 1, /no running process 4194000/);
  });

  it("start --config FILE with SIO_GATEWAY_* over it; a stray METRICS=true no longer stops start", async () => {
    const file = join(dir, "gateway.json");
    writeFileSync(file, JSON.stringify({ workers: 1, "rate-limit": 5, logLevel: "error" }));
    const gateway = await GatewayProcess.start(["--config", file], { METRICS: "true", SIO_GATEWAY_WORKERS: "2" });
    try {
      assert.match(gateway.stdout, /\(2 workers, adapter=cluster\)/, "the prefixed variable beats the file");
      assert.match(gateway.stderr, /warning: ignoring METRICS: invalid option "metrics"/);
    } finally {
      assert.equal((await gateway.stop()).code, 0);
    }
  });

  it("check-config: 0 and one line when it would start, 2 naming the option when not", async () => {
    const good = join(dir, "good.json");
    writeFileSync(good, JSON.stringify({ workers: 2, emitToken: "s3cret-token" }));
    const ok = await runCli(["check-config", good]);
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, /^ok: .*good\.json \(workers=2, emitToken=\*\*\*\)\n$/);
    const bad = join(dir, "bad.json");
    writeFileSync(bad, JSON.stringify({ workers: 0 }));
    assertOneLineError(await runCli(["check-config", bad]), 2, /invalid option "workers": expected a positive integer, got "0"/);
    const app = join(dir, "adapter-app.mjs");
    writeFileSync(app, "export const options = { adapter: {} };\nexport default () => {};\n");
    writeFileSync(bad, JSON.stringify({ app }));
    assertOneLineError(await runCli(["check-config", bad]), 2, /invalid option "options\.adapter"/);
  });

  it("nginx and haproxy --app MODULE take the path, heartbeat and body limit from the app's options", async () => {
    const app = join(dir, "edge-app.mjs");
    writeFileSync(
      app,
      'export const options = { path: "/rt", pingInterval: 50000, pingTimeout: 40000, maxHttpBufferSize: 5000000 };\nexport default () => {};\n',
    );
    const nginx = await runCli(["nginx", "--upstream", "127.0.0.1:3001", "--app", app]);
    assert.equal(nginx.code, 0, nginx.stderr);
    assert.match(nginx.stdout, /location \/rt\/ \{/);
    assert.match(nginx.stdout, /proxy_read_timeout 105s;/);
    assert.match(nginx.stdout, /client_max_body_size 4883k;/);
    const haproxy = await runCli(["haproxy", "--upstream", "127.0.0.1:3001", "--app", app]);
    assert.equal(haproxy.code, 0, haproxy.stderr);
    assert.match(haproxy.stdout, /timeout tunnel 105s/);
    assert.match(haproxy.stdout, /gt 5000000 \}/);
    const broken = join(dir, "broken-app.mjs");
    writeFileSync(broken, "export const options = { pingInterval: -1 };\nexport default () => {};\n");
    assertOneLineError(await runCli(["nginx", "--upstream", "127.0.0.1:3001", "--app", broken]), 2, /invalid option "options\.pingInterval"/);
  });
});
