/**
 * `node --import tsx bench/profile-storm.ts [--system=redis|single|one|recipe] [--transports=websocket|polling]
 * [--clients=1500] [--build=<dir>] [--out=<dir>]`: one connect storm against one system whose every
 * process runs under `--cpu-prof`, then where each process spent its time during the storm, per client:
 * CPU from /proc per process (primary, each worker), and from the profiles the self time per function
 * and the total time under each of the gateway's own functions (samples whose stack passes through
 * dist/gateway or dist/adapter). Profiles are kept in --out (default a new temporary directory).
 * Traffic stays on loopback; the storm is bounded like bench/run.ts's (count and 120 s).
 */
import { fork, spawn } from "node:child_process";
import { createWriteStream, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { RedisServer } from "../test/helpers/redis-server.js";
import { freePort } from "../test/helpers/ports.js";
import type { Task } from "./load.js";
import { gatewayStartArgs, NO_CLIENT_LIMITS, processTree, startServerProcess, stopProcessTree } from "./systems.js";

const here = fileURLToPath(new URL(".", import.meta.url));
const root = fileURLToPath(new URL("..", import.meta.url));
const arg = (name: string, fallback: string): string => process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? fallback;
const system = arg("system", "single");
const transports = arg("transports", "websocket") === "polling" ? (["polling", "websocket"] as const) : (["websocket"] as const);
const clients = Number(arg("clients", "1500"));
const build = arg("build", root);
const out = arg("out", mkdtempSync(join(tmpdir(), "storm-prof-")));
mkdirSync(out, { recursive: true });
const top = Number(arg("top", "40"));
const storms = Number(arg("storms", "1"));
/** `--node-flags=a,b`: more Node flags for every server process (e.g. --trace-opt,--trace-deopt); its output goes to `<out>/server.log`, with a line per storm. */
const nodeFlags = arg("node-flags", "").split(",").filter(Boolean);
/** `--prof=0`: no profiler (its sampling costs CPU of its own): /proc figures only. */
const profiling = arg("prof", "1") !== "0";
/**
 * `--perf=1`: Linux `perf record` (on-CPU samples, kernel included) on every server process during
 * the storm, instead of V8's profiler (which samples wall time: on 2 shared cores a process waiting
 * for a core has its wait charged to whatever it ran last). Node writes /tmp/perf-<pid>.map
 * (`--perf-basic-prof`) so JavaScript frames get names; read with `perf report -i <out>/perf.data`.
 */
const perf = arg("perf", "0") === "1";

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  startTime: number;
  samples: number[];
  timeDeltas: number[];
}

function cpuTicks(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
    return Number(fields[11]) + Number(fields[12]);
  } catch {
    return NaN;
  }
}

/** The monotonic clock V8's profiler stamps samples with, in µs. */
const monotonicMicros = (): number => Number(process.hrtime.bigint() / 1000n);

function short(frame: ProfileNode["callFrame"]): string {
  const url = frame.url
    .replace(/^file:\/\//, "")
    .replace(build, "")
    .replace(root, "")
    .replace(/.*node_modules\//, "");
  return `${frame.functionName || "(anon)"} ${url}:${frame.lineNumber + 1}`;
}

function summarize(file: string, from: number, to: number, perClient: number): string {
  const profile = JSON.parse(readFileSync(file, "utf8")) as Profile;
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const self = new Map<string, number>();
  const totalOurs = new Map<string, number>();
  const byPackage = new Map<string, number>();
  let t = profile.startTime;
  let busy = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    t += profile.timeDeltas[i];
    const delta = profile.timeDeltas[i + 1] ?? 0; // a sample stands for the time until the next one
    if (t < from || t > to) continue;
    const node = byId.get(profile.samples[i])!;
    const name = node.callFrame.functionName;
    if (name === "(idle)") continue;
    busy += delta;
    const key = short(node.callFrame);
    self.set(key, (self.get(key) ?? 0) + delta);
    const pkg =
      /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(node.callFrame.url)?.[1] ??
      (node.callFrame.url.includes("/dist/") ? "gateway" : node.callFrame.url.startsWith("node:") ? "node" : name);
    byPackage.set(pkg, (byPackage.get(pkg) ?? 0) + delta);
    const seen = new Set<string>();
    for (let id: number | undefined = node.id; id !== undefined; id = parent.get(id)) {
      const frame = byId.get(id)!.callFrame;
      if (!/\/dist\/(gateway|adapter)\//.test(frame.url)) continue;
      const ours = short(frame);
      if (seen.has(ours)) continue;
      seen.add(ours);
      totalOurs.set(ours, (totalOurs.get(ours) ?? 0) + delta);
    }
  }
  // The figures per function, µs per client, for comparing runs (e.g. a worker against one Socket.IO process).
  const perClientMap = (map: Map<string, number>) => Object.fromEntries([...map].map(([key, micros]) => [key, micros / perClient]));
  writeFileSync(
    `${file}.summary.json`,
    JSON.stringify({ busy: busy / perClient, self: perClientMap(self), ours: perClientMap(totalOurs), byPackage: perClientMap(byPackage) }),
  );
  const ms = (micros: number): string => (micros / 1000 / perClient).toFixed(4);
  const rows = (map: Map<string, number>, n: number): string[] =>
    [...map]
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([key, micros]) => `  ${ms(micros).padStart(8)}  ${key}`);
  return [
    `${file}: busy ${ms(busy)} ms per client (profiler wall time, not CPU)`,
    " by package (self):",
    ...rows(byPackage, 15),
    " self:",
    ...rows(self, top),
    " total under the gateway's own functions:",
    ...rows(totalOurs, 30),
  ].join("\n");
}

/** One connect storm from a forked load generator (bench/load.ts), as bench/run.ts runs it. */
function runStorm(port: number): Promise<Record<string, number>> {
  const task: Task = { scenario: "connect", url: `http://127.0.0.1:${port}`, kind: "socketio", count: clients, concurrency: 100, transports: [...transports] };
  const load = fork(`${here}load.ts`, [], { execArgv: ["--import", "tsx"], stdio: ["ignore", "inherit", "inherit", "ipc"] });
  return new Promise<Record<string, number>>((resolve, reject) => {
    const timer = setTimeout(() => (load.kill("SIGKILL"), reject(new Error("no result within 120 s"))), 120_000);
    load.on("message", (message: { type: string; result?: Record<string, number>; error?: string }) => {
      if (message.type !== "result" && message.type !== "error") return;
      clearTimeout(timer);
      if (message.type === "result") resolve(message.result!);
      else reject(new Error(message.error));
    });
    load.send(task);
  });
}

async function main(): Promise<void> {
  const redis = system === "redis" || system === "recipe" ? await RedisServer.start() : undefined;
  const port = await freePort();
  const prof = [
    ...nodeFlags,
    ...(perf
      ? ["--perf-basic-prof", "--no-logfile-per-isolate", `--logfile=${join(out, "v8.log")}`]
      : profiling
        ? ["--cpu-prof", `--cpu-prof-dir=${out}`]
        : []),
  ];
  const args =
    system === "one"
      ? [...prof, "--import", "tsx", `${here}servers/single-process.ts`]
      : system === "recipe"
        ? [...prof, "--import", "tsx", `${here}servers/sticky-recipe.ts`]
        : [...prof, ...gatewayStartArgs({ build, port, workers: 2, redisUrl: redis?.url, app: `${here}app.mjs`, flags: NO_CLIENT_LIMITS })];
  // Workers inherit the primary's flags (cluster's execArgv), so each writes its own profile.
  const env = { ...process.env, PORT: String(port), REDIS_URL: redis?.url, WORKERS: "2" };
  const child = await startServerProcess(system, process.execPath, args, env);
  try {
    const log = createWriteStream(join(out, "server.log"));
    child.stdout!.pipe(log);
    const pids = processTree(child.pid!);
    let recorder: ReturnType<typeof spawn> | undefined;
    let from = monotonicMicros();
    let connected = 0;
    // `--storms=N`: N storms one after the other on the same processes (the later ones run warm:
    // JIT compiled); perf records the last one only.
    for (let storm = 1; storm <= storms; storm++) {
      if (perf && storm === storms) {
        recorder = spawn("perf", ["record", "-F", "1999", "-g", "-o", join(out, "perf.data"), "-p", pids.join(",")], {
          stdio: ["ignore", "ignore", "inherit"],
        });
        await new Promise((resolve) => setTimeout(resolve, 1000));
      }
      if (storm === storms) from = monotonicMicros();
      log.write(`=== storm ${storm}\n`);
      const before = pids.map(cpuTicks);
      const result = await runStorm(port);
      // Let the closes the load generator started be served too (they are part of a storm's cost in run.ts).
      await new Promise((resolve) => setTimeout(resolve, 500));
      const after = pids.map(cpuTicks);
      connected = result.connected;
      process.stdout.write(`${system} ${transports.join("+")} storm ${storm}: ${JSON.stringify(result)}\n`);
      let sum = 0;
      pids.forEach((pid, i) => {
        const ms = ((after[i] - before[i]) * 10) / result.connected;
        if (Number.isFinite(ms)) sum += ms;
        process.stdout.write(`  pid ${pid}${i === 0 ? " (primary)" : ""}: ${ms.toFixed(3)} ms CPU per client (/proc)\n`);
      });
      process.stdout.write(`  all: ${sum.toFixed(3)} ms CPU per client\n`);
    }
    const to = monotonicMicros();
    if (recorder) {
      const done = new Promise((resolve) => recorder.once("exit", resolve));
      recorder.kill("SIGINT");
      await done;
    }
    await stopProcessTree(child, 3000);
    for (const file of readdirSync(out).filter((name) => name.endsWith(".cpuprofile"))) {
      process.stdout.write(`${summarize(join(out, file), from, to, connected)}\n`);
    }
  } finally {
    await stopProcessTree(child);
    await redis?.stop();
  }
}

main().catch((error: Error) => {
  process.stderr.write(`profile-storm failed: ${error.stack ?? error.message}\n`);
  process.exit(1);
});
