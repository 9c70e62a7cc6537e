/**
 * Runs the official Socket.IO protocol test suite (vendor/test-suite.js, from
 * socketio/socket.io-protocol) against (a) a plain Socket.IO server and (b) the built gateway
 * with 2 workers, both running suite-app.mjs with the suite's settings, alternating the two for
 * a few rounds (the suite's heartbeat tests are timing-sensitive: one run proves little), and
 * prints the pass counts side by side with every test that failed.
 *
 *   npm run build && npm run test:protocol [-- --rounds 3]
 *
 * Exits 1 when a test failed on the gateway in every round and never on the plain server (a
 * difference of ours, not the suite's timing: its heartbeat tests read the next message without
 * skipping pings, which arrive every 300 ms, so under load they fail on either server).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { GatewayProcess } from "../helpers/gateway-process.js";
import { stopChild } from "../helpers/processes.js";

const here = (name: string): string => fileURLToPath(new URL(name, import.meta.url));
const SUITE = here("vendor/test-suite.js");
const SUITE_APP = here("suite-app.mjs");
const PLAIN_SERVER = here("plain-server.mjs");
const MOCHA = createRequire(import.meta.url).resolve("mocha/bin/mocha.js");
/** A whole suite run takes about 10 s; past this something hangs. */
const SUITE_TIMEOUT = 120_000;

interface SuiteResult {
  passes: number;
  tests: number;
  failed: string[];
}

/** A running server under test: its URL and how to stop it. */
interface System {
  url: string;
  stop(): Promise<void>;
}

type SystemName = "plain Socket.IO" | "sio-gateway (2 workers)";

/** Runs one process to its exit, bounded by `timeout`; resolves with its stdout. */
function runToExit(child: ChildProcess, timeout: number, what: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let stdout = "";
    let stderr = "";
    child.stdout?.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr?.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`${what} did not finish within ${timeout} ms; stderr:\n${stderr}`));
    }, timeout);
    child.once("exit", () => {
      clearTimeout(timer);
      resolve(stdout);
    });
  });
}

/** One run of the suite against `url` (mocha's JSON reporter; a failing suite exits non-zero, which is a result, not an error). */
async function runSuite(url: string): Promise<SuiteResult> {
  const child = spawn(process.execPath, [MOCHA, "--reporter", "json", SUITE], { env: { ...process.env, SERVER_URL: url }, stdio: ["ignore", "pipe", "pipe"] });
  const stdout = await runToExit(child, SUITE_TIMEOUT, "the protocol suite");
  const report = JSON.parse(stdout.slice(stdout.indexOf("{"))) as { stats: { tests: number; passes: number }; failures: { fullTitle: string }[] };
  return { passes: report.stats.passes, tests: report.stats.tests, failed: report.failures.map((failure) => failure.fullTitle) };
}

async function startPlain(): Promise<System> {
  const child = spawn(process.execPath, [PLAIN_SERVER], { env: { ...process.env, PORT: "0" }, stdio: ["ignore", "pipe", "inherit"] });
  const [port] = await new Promise<[number]>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("the plain server did not listen within 10 s")), 10_000);
    child.stdout.on("data", (chunk: Buffer) => {
      const match = /listening (\d+)/.exec(chunk.toString());
      if (match) {
        clearTimeout(timer);
        resolve([Number(match[1])]);
      }
    });
    child.once("exit", (code) => reject(new Error(`the plain server exited (${code}) before listening`)));
  });
  return { url: `http://127.0.0.1:${port}`, stop: () => stopChild(child) };
}

async function startGateway(): Promise<System> {
  const gateway = await GatewayProcess.start(["--workers", "2", "--app", SUITE_APP]);
  return {
    url: gateway.url,
    stop: async () => {
      const { code } = await gateway.stop();
      if (code !== 0) throw new Error(`the gateway exited ${code}`);
    },
  };
}

const STARTERS: Record<SystemName, () => Promise<System>> = { "plain Socket.IO": startPlain, "sio-gateway (2 workers)": startGateway };

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { rounds: { type: "string", default: "3" } } });
  const rounds = Number(values.rounds);
  if (!Number.isSafeInteger(rounds) || rounds < 1 || rounds > 20)
    throw new Error(`invalid option "rounds": expected an integer from 1 to 20, got "${values.rounds}"`);

  const names = Object.keys(STARTERS) as SystemName[];
  const results = new Map<SystemName, SuiteResult[]>(names.map((name) => [name, []]));
  for (let round = 0; round < rounds; round++) {
    // Alternate which goes first, so a slow moment of the machine does not always hit the same one.
    const order = round % 2 === 0 ? names : [...names].reverse();
    for (const name of order) {
      const system = await STARTERS[name]();
      try {
        const result = await runSuite(system.url);
        results.get(name)!.push(result);
        process.stderr.write(`round ${round + 1}: ${name}: ${result.passes}/${result.tests}\n`);
      } finally {
        await system.stop();
      }
    }
  }

  const failures = (name: SystemName): Map<string, number> => {
    const failed = new Map<string, number>();
    for (const result of results.get(name)!) for (const title of result.failed) failed.set(title, (failed.get(title) ?? 0) + 1);
    return failed;
  };
  const lines = [`| round | ${names.join(" | ")} |`, `| --- | ${names.map(() => "---").join(" | ")} |`];
  for (let round = 0; round < rounds; round++) {
    lines.push(`| ${round + 1} | ${names.map((name) => `${results.get(name)![round].passes}/${results.get(name)![round].tests}`).join(" | ")} |`);
  }
  const total = (name: SystemName): number => results.get(name)!.reduce((sum, result) => sum + result.passes, 0);
  lines.push(`| all | ${names.map((name) => `${total(name)}/${results.get(name)!.reduce((sum, result) => sum + result.tests, 0)}`).join(" | ")} |`);
  for (const name of names) {
    const failed = failures(name);
    lines.push("", `${name} failed: ${failed.size === 0 ? "nothing" : ""}`);
    for (const [title, count] of failed) lines.push(`- ${title} (${count} of ${rounds} runs)`);
  }
  const plainFailed = failures("plain Socket.IO");
  const ours = [...failures("sio-gateway (2 workers)")].filter(([title, count]) => count === rounds && !plainFailed.has(title)).map(([title]) => title);
  lines.push("", ours.length === 0 ? "no test fails on the gateway alone in every round" : `failed on the gateway alone, every round: ${ours.join("; ")}`);
  process.stdout.write(`${lines.join("\n")}\n`);
  if (ours.length > 0) process.exitCode = 1;
}

main().catch((error: unknown) => {
  process.stderr.write(`protocol suite: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});
