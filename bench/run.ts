/**
 * `npm run bench` (full, under 10 minutes) and `npm run bench -- --quick` (under 90 s):
 * every scenario runs every system in turn (A B C … A B C …), each started fresh, and
 * reports the median and spread of each figure, the ratio to the standard recipe, and the
 * servers' CPU seconds per operation. Writes bench/RESULTS.md and bench/results.json.
 * Traffic stays on loopback; every run is bounded in count and time.
 */
import { fork } from "node:child_process";
import { cpus, totalmem } from "node:os";
import { writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { RedisServer } from "../test/helpers/redis-server.js";
import { freePort } from "../test/helpers/ports.js";
import type { Task } from "./load.js";
import { REFERENCE, RunningSystem, SYSTEMS, cpuSeconds, rssBytes, type SystemSpec } from "./systems.js";
import { median, fmt } from "./stats.js";

const quick = process.argv.includes("--quick");
const only = process.argv.find((arg) => arg.startsWith("--only="))?.slice(7);
/** `--systems=gateway,recipe`: only the systems whose names contain one of these words. */
const systemFilter = process.argv
  .find((arg) => arg.startsWith("--systems="))
  ?.slice(10)
  .split(",");
const ROUNDS = quick ? 1 : 3;
/** The promised bounds (10 min full, 90 s quick), less a margin: past this no new run starts. */
const BUDGET_MS = quick ? 80_000 : 570_000;
const here = fileURLToPath(new URL(".", import.meta.url));

interface Scenario {
  id: string;
  title: string;
  /** The figure compared across systems, and whether higher is better. */
  figure: string;
  unit: string;
  higherIsBetter: boolean;
  /** Operations for CPU per operation (from the load result). */
  operations(result: Record<string, number>): number;
  systems(spec: SystemSpec): boolean;
  task(url: string, spec: SystemSpec, redisUrl: string): Task;
  /** Extra figures to show beside the main one. */
  extras: string[];
  /** Measure RSS per connection once the clients are connected (fan-out runs only). */
  measureMemory?: boolean;
}

const socketIoOnly = (spec: SystemSpec) => spec.kind === "socketio";
const size = (full: number, small: number) => (quick ? small : full);

const SCENARIOS: Scenario[] = [
  {
    id: "connect-default",
    title: `Connect storm, default transport (polling, then upgrade): ${size(2000, 300)} clients, 100 at a time`,
    figure: "perSecond",
    unit: "connections/s",
    higherIsBetter: true,
    extras: ["failed"],
    operations: (r) => r.connected,
    systems: socketIoOnly,
    task: (url, spec) => ({ scenario: "connect", url, kind: spec.kind, count: size(2000, 300), concurrency: 100, transports: ["polling", "websocket"] }),
  },
  {
    id: "connect-websocket",
    title: `Connect storm, WebSocket only: ${size(2000, 300)} clients, 100 at a time`,
    figure: "perSecond",
    unit: "connections/s",
    higherIsBetter: true,
    extras: ["failed"],
    operations: (r) => r.connected,
    systems: () => true,
    task: (url, spec) => ({ scenario: "connect", url, kind: spec.kind, count: size(2000, 300), concurrency: 100, transports: ["websocket"] }),
  },
  {
    id: "polling",
    title: `Long-polling throughput: ${size(200, 50)} polling-only clients doing chat round trips for ${size(3, 2)} s`,
    figure: "perSecond",
    unit: "round trips/s",
    higherIsBetter: true,
    extras: ["failed"],
    operations: (r) => r.roundTrips,
    systems: socketIoOnly,
    task: (url, spec) => ({ scenario: "polling", url, kind: spec.kind, clients: size(200, 50), duration: size(3000, 2000) }),
  },
  ...[
    { clients: size(1000, 200), messages: size(100, 20) },
    { clients: size(5000, 500), messages: size(20, 10) },
  ].map(({ clients, messages }, index): Scenario => ({
    id: `fanout-${clients}`,
    title: `Fan-out: ${clients} WebSocket clients, ${messages} broadcasts to all at full speed${index === 1 ? "; memory with all connected and idle" : ""}`,
    figure: "perSecond",
    unit: "deliveries/s",
    higherIsBetter: true,
    extras: ["lost", "failed"],
    operations: (r) => r.received,
    systems: () => true,
    measureMemory: index === 1,
    task: (url, spec) => ({ scenario: "fanout", url, kind: spec.kind, clients, messages }),
  })),
  {
    id: "latency",
    title: `Latency: 10 broadcasts/s to ${size(1000, 200)} WebSocket clients for ${size(3, 2)} s, from the server's emit to receipt`,
    figure: "p99",
    unit: "ms (p99)",
    higherIsBetter: false,
    extras: ["p50", "emitterP50", "emitterP99"],
    operations: (r) => r.samples,
    systems: () => true,
    // Redis systems also run the same from an outside emitter (sio-gateway/emitter), on the same clients.
    task: (url, spec, redisUrl) => ({
      scenario: "latency",
      url,
      kind: spec.kind,
      clients: size(1000, 200),
      rate: 10,
      duration: size(3000, 2000),
      redisUrl: spec.redis ? redisUrl : undefined,
    }),
  },
];

interface Run {
  scenario: string;
  system: string;
  round: number;
  result: Record<string, number>;
  cpuPerOperation: number;
  rssPerConnection?: number;
}

/**
 * Runs one task in a forked load generator; `onConnected` runs when the generator says its clients are up,
 * `onDelivered` when a fan-out's deliveries are all in (before its clients close).
 */
function runLoad(task: Task, onConnected: () => void, onDelivered: () => void): Promise<Record<string, number>> {
  const child = fork(`${here}load.ts`, [], { execArgv: ["--import", "tsx"], stdio: ["ignore", "inherit", "inherit", "ipc"] });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => (child.kill("SIGKILL"), reject(new Error(`${task.scenario}: no result within 120 s`))), 120_000);
    child.on("message", (message: { type: string; result?: Record<string, number>; error?: string }) => {
      if (message.type === "connected") {
        onConnected();
        child.send({ type: "go" });
      } else if (message.type === "delivered") {
        onDelivered();
      } else if (message.type === "result") {
        clearTimeout(timer);
        resolve(message.result!);
      } else if (message.type === "error") {
        clearTimeout(timer);
        reject(new Error(message.error));
      }
    });
    child.send(task);
  });
}

async function runOnce(scenario: Scenario, spec: SystemSpec, round: number, redisUrl: string): Promise<Run> {
  const system = await RunningSystem.start(spec, await freePort(), redisUrl);
  try {
    const pid = system.child.pid!;
    const idleRss = rssBytes(pid);
    let rssPerConnection: number | undefined;
    let cpuBefore = cpuSeconds(pid);
    let cpuAfter: number | undefined;
    const task = scenario.task(system.url, spec, redisUrl);
    const result = await runLoad(
      task,
      () => {
        if (scenario.measureMemory && task.scenario === "fanout") rssPerConnection = (rssBytes(pid) - idleRss) / task.clients;
        // A fan-out's CPU per delivery counts the broadcasts only, from here to "delivered" (before 2026-11-28 it included every client's connect and close).
        if (task.scenario === "fanout") cpuBefore = cpuSeconds(pid);
      },
      () => (cpuAfter = cpuSeconds(pid)),
    );
    const cpu = (cpuAfter ?? cpuSeconds(pid)) - cpuBefore;
    return { scenario: scenario.id, system: spec.name, round, result, cpuPerOperation: cpu / Math.max(1, scenario.operations(result)), rssPerConnection };
  } finally {
    await system.stop();
  }
}

/** CPU ms per operation: three decimals, more below 0.01 ms (a fan-out delivery costs a few µs). */
function cpuMs(value: number): string {
  return fmt(value, value < 0.01 ? 4 : 3);
}

const EXTRA_LABELS: Record<string, string> = {
  failed: "failed clients",
  lost: "lost deliveries",
  p50: "p50 ms",
  emitterP50: "outside emitter p50 ms",
  emitterP99: "outside emitter p99 ms",
};

function table(scenario: Scenario, runs: Run[]): string {
  const bySystem = new Map<string, Run[]>();
  for (const run of runs) bySystem.set(run.system, [...(bySystem.get(run.system) ?? []), run]);
  const reference = bySystem.get(REFERENCE);
  const referenceMedian = reference ? median(reference.map((run) => run.result[scenario.figure])) : NaN;
  const digits = scenario.higherIsBetter ? 0 : 2;
  const lines = [
    `### ${scenario.title}`,
    "",
    `| system | ${scenario.unit}, median | spread (min–max) | vs standard recipe | server CPU ms / op | ${scenario.extras.map((extra) => EXTRA_LABELS[extra] ?? extra).join(" | ")}${scenario.measureMemory ? " | RSS KB / idle connection" : ""} |`,
    `|---|---|---|---|---|${scenario.extras.map(() => "---|").join("")}${scenario.measureMemory ? "---|" : ""}`,
  ];
  for (const [system, systemRuns] of bySystem) {
    const values = systemRuns.map((run) => run.result[scenario.figure]);
    const value = median(values);
    const ratio = scenario.higherIsBetter ? value / referenceMedian : referenceMedian / value;
    const extras = scenario.extras.map((extra) => fmt(median(systemRuns.map((run) => run.result[extra] ?? NaN)), /p\d\d|P\d\d/.test(extra) ? 2 : 0));
    const memory = scenario.measureMemory ? [fmt(median(systemRuns.map((run) => run.rssPerConnection!)) / 1024, 1)] : [];
    lines.push(
      `| ${system} | ${fmt(value, digits)} | ${fmt(Math.min(...values), digits)}–${fmt(Math.max(...values), digits)} | ${Number.isFinite(ratio) ? `${ratio.toFixed(2)}x` : "–"} | ${cpuMs(median(systemRuns.map((run) => run.cpuPerOperation)) * 1000)} | ${[...extras, ...memory].join(" | ")} |`,
    );
  }
  return lines.join("\n");
}

async function main(): Promise<void> {
  const started = Date.now();
  const redis = await RedisServer.start();
  const runs: Run[] = [];
  let skipped = 0;
  try {
    for (const scenario of SCENARIOS.filter((s) => !only || s.id.startsWith(only))) {
      for (let round = 1; round <= ROUNDS; round++) {
        if (Date.now() - started > BUDGET_MS) {
          skipped++;
          continue;
        }
        const chosen = (spec: SystemSpec) => !systemFilter || systemFilter.some((word) => spec.name.includes(word));
        for (const spec of SYSTEMS.filter((spec) => scenario.systems(spec) && chosen(spec))) {
          const run = await runOnce(scenario, spec, round, redis.url);
          runs.push(run);
          process.stderr.write(`${scenario.id} round ${round} ${spec.name}: ${JSON.stringify(run.result)}\n`);
        }
      }
    }
  } finally {
    await redis.stop();
  }
  const minutes = ((Date.now() - started) / 60_000).toFixed(1);
  const cpu = cpus()[0]?.model ?? "unknown CPU";
  const report = [
    "# Benchmark results",
    "",
    `${new Date().toISOString().slice(0, 10)} · ${cpu}, ${cpus().length} cores, ${(totalmem() / 2 ** 30).toFixed(0)} GiB · Node ${process.version} · ${quick ? "quick run (1 round, small sizes)" : `${ROUNDS} rounds, systems alternated`} · ${minutes} min`,
    "",
    "Produced by `npm run bench" + (quick ? " -- --quick" : "") + "`. Servers and the load generator share the 2 cores (no pinning: pinning the",
    "servers to one core would halve the 2-worker systems); compare the server CPU per operation beside throughput.",
    "Clients come from distinct 127.0.x.y addresses with keep-alive agents, like browsers.",
    ...(skipped > 0 ? ["", `**Time budget reached: ${skipped} scenario round(s) were not run.**`] : []),
    "",
    ...SCENARIOS.filter((scenario) => runs.some((run) => run.scenario === scenario.id)).map(
      (scenario) =>
        `${table(
          scenario,
          runs.filter((run) => run.scenario === scenario.id),
        )}\n`,
    ),
  ].join("\n");
  // A partial run (--only, --systems) never overwrites the full results.
  const partial = only !== undefined || systemFilter !== undefined;
  const outName = partial ? "RESULTS.partial.md" : quick ? "RESULTS.quick.md" : "RESULTS.md";
  writeFileSync(`${here}${outName}`, report);
  writeFileSync(
    `${here}${partial ? "results.partial.json" : quick ? "results.quick.json" : "results.json"}`,
    JSON.stringify({ date: new Date().toISOString(), cpu, cores: cpus().length, node: process.version, quick, runs }, null, 2),
  );
  process.stdout.write(`${report}\nwritten to bench/${outName}\n`);
}

main().catch((error: Error) => {
  process.stderr.write(`bench failed: ${error.stack ?? error.message}\n`);
  process.exit(1);
});
