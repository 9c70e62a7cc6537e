/**
 * `npm run bench:presence` (a few minutes) · `npm run bench:presence -- --quick` (10 and 1,000 members):
 * room counts from the presence service vs `io.in(room).fetchSockets()`, side by side.
 *
 * For each room size (10, 1,000, 10,000 members) and each system in turn: a fresh private Redis
 * and gateway (2 workers, `--redis`, bench/presence-app.mjs), the room filled with that many
 * members (one WebSocket client each, from its own 127.x address, joined without counting),
 * then: 100 more clients join at once, each join answered with the room's count (what the demo
 * app does): joins per second, ack latency, failed joins; then one client reads the count over
 * and over: its latency. Clients are bench/raw-socketio-client.ts (10,000 socket.io-clients would
 * weigh more than the gateway). Redis, the gateway and the clients share the machine's cores.
 * Writes bench/RESULTS.presence.md (kept in git) and bench/results.presence.json (raw, ignored; `.quick` for a quick run).
 */
import { cpus, loadavg, totalmem } from "node:os";
import { writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { loopbackAddress } from "../test/helpers/clients.js";
import { GatewayProcess } from "../test/helpers/gateway-process.js";
import { mapConcurrent } from "../test/helpers/pool.js";
import { RedisServer } from "../test/helpers/redis-server.js";
import { rawHandshake, RawSocketIoClient } from "./raw-socketio-client.js";

const quick = process.argv.includes("--quick");
const SIZES = quick ? [10, 1000] : [10, 1000, 10_000];
const SYSTEMS = ["presence", "fetchSockets"] as const;
type System = (typeof SYSTEMS)[number];
const JOINERS = 100;
const READS = 100;
/** How long one join or read may take before it counts as failed (the Redis adapter's own fetchSockets timeout is 5 s). */
const REQUEST_TIMEOUT = 30_000;
const ROOM = "bench";
/** Hostile handshakes sent while the joins run (half 20,000 levels deep, half 900 KB), in the hostile runs. */
const HOSTILE = 40;
const DEEP_AUTH = `${'{"a":'.repeat(20_000)}1${"}".repeat(20_000)}`;
const LARGE_AUTH = JSON.stringify({ token: "x".repeat(900_000) });
const APP = fileURLToPath(new URL("./presence-app.mjs", import.meta.url));
const here = fileURLToPath(new URL(".", import.meta.url));

interface Run {
  members: number;
  system: System;
  /** Hostile handshakes sent during the joins, and how many were refused. */
  hostile: number;
  refused: number;
  joinsPerSecond: number;
  joinP50: number;
  joinP99: number;
  failedJoins: number;
  firstFailure?: string;
  readP50: number;
  readP99: number;
  failedReads: number;
  /** The count the last read answered (members + joiners when right). */
  lastCount: number;
}

function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

async function timed<T>(work: () => Promise<T>): Promise<{ ms: number; value?: T; error?: string }> {
  const started = performance.now();
  try {
    const value = await work();
    return { ms: performance.now() - started, value };
  } catch (error) {
    return { ms: performance.now() - started, error: (error as Error).message };
  }
}

type Answer = { ok: boolean; members?: number; error?: string };

async function measure(system: System, members: number, hostile = 0): Promise<Run> {
  const redis = await RedisServer.start();
  const gateway = await GatewayProcess.start(
    ["--workers", "2", "--redis", redis.url, "--app", APP, "--rate-limit", "0", "--max-conns-per-ip", "0"],
    { PRESENCE_BENCH_COUNT: system },
    60_000,
  );
  const clients: RawSocketIoClient[] = [];
  try {
    await mapConcurrent(members, 100, async (index) => {
      const client = await RawSocketIoClient.connect(gateway.port, loopbackAddress(index));
      clients.push(client);
      await client.request("enter", [ROOM], REQUEST_TIMEOUT);
    });
    const joiners = await mapConcurrent(JOINERS, 50, (index) => RawSocketIoClient.connect(gateway.port, loopbackAddress(members + index)));
    clients.push(...joiners);

    const attacks = Array.from({ length: hostile }, (_, i) =>
      rawHandshake(gateway.port, loopbackAddress(members + JOINERS + i), i % 2 === 0 ? DEEP_AUTH : LARGE_AUTH),
    );
    const started = performance.now();
    const joins = await Promise.all(joiners.map((client) => timed(() => client.request<Answer>("join", [ROOM], REQUEST_TIMEOUT))));
    const elapsed = (performance.now() - started) / 1000;
    const refused = (await Promise.all(attacks)).filter((outcome) => outcome.startsWith("handshake auth")).length;
    const failed = joins.filter((join) => join.error !== undefined || !join.value?.ok);
    const firstFailure = failed[0]?.error ?? failed[0]?.value?.error;

    const reads: number[] = [];
    let failedReads = 0;
    let lastCount = 0;
    const readsUntil = performance.now() + 60_000;
    for (let i = 0; i < READS && performance.now() < readsUntil; i++) {
      const read = await timed(() => joiners[0].request<Answer>("count", [ROOM], REQUEST_TIMEOUT));
      if (read.error !== undefined || !read.value?.ok) failedReads++;
      else reads.push(read.ms);
      lastCount = read.value?.members ?? lastCount;
    }
    const okJoins = joins.filter((join) => !failed.includes(join)).map((join) => join.ms);
    return {
      members,
      system,
      hostile,
      refused,
      joinsPerSecond: okJoins.length / elapsed,
      joinP50: percentile(okJoins, 50),
      joinP99: percentile(okJoins, 99),
      failedJoins: failed.length,
      ...(firstFailure ? { firstFailure } : {}),
      readP50: percentile(reads, 50),
      readP99: percentile(reads, 99),
      failedReads,
      lastCount,
    };
  } finally {
    for (const client of clients) client.close();
    await gateway.stop();
    await redis.stop();
  }
}

const fmt = (value: number, digits = 1): string => (Number.isFinite(value) ? value.toLocaleString("en-US", { maximumFractionDigits: digits }) : "–");

function report(runs: Run[], minutes: number): string {
  const cpu = cpus()[0]?.model.trim() ?? "unknown CPU";
  const lines = [
    "# Presence: room counts from the presence service vs fetchSockets",
    "",
    `${new Date().toISOString().slice(0, 10)} · ${cpu}, ${cpus().length} cores, ${Math.round(totalmem() / 2 ** 30)} GiB · Node ${process.version} · ${fmt(minutes)} min${quick ? " · quick run" : ""} · load average ${loadAtStart} at start, ${fmt(loadavg()[0])} at the end`,
    "",
    "Produced by `npm run bench:presence` (bench/presence.ts). A private redis-server, one gateway of 2 workers",
    `(\`--redis\`, bench/presence-app.mjs), the room filled with N members, then ${JOINERS} more clients join at once, each join`,
    `answered with the room's count (as the demo app does), then one client reads the count ${READS} times in a row.`,
    "`presence`: `ctx.presence.join()` / `.count()`; `fetchSockets`: `io.in(room).fetchSockets().length`, the demo app's",
    "count before presence. Redis, the gateway and the clients share the machine's cores. A row with hostile handshakes:",
    `while the joins run, ${HOSTILE} more clients each send a handshake \`auth\` (half 20,000 levels deep, half 900 KB).`,
    "",
    `| members in the room | count by | joins/s (${JOINERS} at once) | join ack p50 / p99 (ms) | failed joins | count read p50 / p99 (ms) | failed reads | last count read |`,
    "| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: |",
  ];
  for (const run of runs) {
    lines.push(
      `| ${fmt(run.members, 0)} | ${run.system}${run.hostile > 0 ? `, ${run.hostile} hostile handshakes at once (${run.refused} refused)` : ""} | ${fmt(run.joinsPerSecond, 0)} | ${fmt(run.joinP50)} / ${fmt(run.joinP99)} | ${run.failedJoins} | ${fmt(run.readP50, 2)} / ${fmt(run.readP99, 2)} | ${run.failedReads} | ${fmt(run.lastCount, 0)} |`,
    );
  }
  const failures = runs.filter((run) => run.firstFailure);
  if (failures.length > 0) {
    lines.push("", "First failure of each run that had one:", "");
    for (const run of failures) lines.push(`- ${run.system}, ${fmt(run.members, 0)} members: ${run.firstFailure}`);
  }
  return `${lines.join("\n")}\n`;
}

const benchStarted = performance.now();
/** Other work on the machine skews every figure: the report says how busy it was. */
const loadAtStart = fmt(loadavg()[0]);
const runs: Run[] = [];
for (const members of SIZES) {
  for (const system of SYSTEMS) {
    process.stderr.write(`${system}, ${members} members… `);
    const run = await measure(system, members);
    process.stderr.write(`${fmt(run.joinsPerSecond, 0)} joins/s, read p50 ${fmt(run.readP50, 2)} ms, ${run.failedJoins} failed\n`);
    runs.push(run);
  }
}
// The joins of others while hostile handshakes arrive (issue 17: they must stay fast and correct).
process.stderr.write(`presence, 1000 members, ${HOSTILE} hostile handshakes… `);
const hostileRun = await measure("presence", 1000, HOSTILE);
process.stderr.write(`join p99 ${fmt(hostileRun.joinP99)} ms, ${hostileRun.refused} of ${HOSTILE} refused\n`);
runs.splice(runs.findIndex((run) => run.members === 1000 && run.system === "presence") + 1, 0, hostileRun);
const suffix = quick ? ".quick" : "";
writeFileSync(`${here}RESULTS.presence${suffix}.md`, report(runs, (performance.now() - benchStarted) / 60_000));
writeFileSync(`${here}results.presence${suffix}.json`, `${JSON.stringify(runs, null, 2)}\n`);
process.stderr.write(`wrote bench/RESULTS.presence${suffix}.md\n`);
