/**
 * `npm run bench:scale` (the 10k/30k/60k curve, ~6 min per build) · `-- --quick` (10,000 sockets,
 * under 2 min) · `-- --sizes=60000` · `-- --moonshot` (100,000 sockets over 6 workers) ·
 * `-- --mode=single` (no Redis: broadcasts through the primary) · `BENCH_BASELINE_ROOT=<dir>` (and
 * `BENCH_BASELINE_COMMIT=<hash>` for its label) adds an older build, run beside this one at each
 * size, alternating which goes first.
 *
 * How many idle Socket.IO connections the gateway holds on this machine, and what they cost. One
 * run = one fresh gateway (4 workers; `--rate-limit 0 --max-conns-per-ip 0`, the lean app
 * bench/app-scale.mjs with nothing per socket, POST /emit on a token) and ceil(N / 15,000) forked
 * client processes (bench/scale-client.ts, at least 2: a process may hold 20,000 fds here) of
 * hand-written WebSocket Socket.IO clients, each socket from its own 127.A.B.C address:
 * 1. Connect: all processes start at once, 400 handshakes in flight in total (below the primary's
 *    accept backlog, 511 in Node); time from the first start to the last "40{sid}", the quartiles,
 *    CPU seconds of the gateway's tree, the clients and Redis over it, and the kernel's listen
 *    queue overflows (/proc/net/netstat) meanwhile.
 * 2. Memory: RSS of the gateway's process tree (and of each worker) at 0 sockets and after the
 *    idle phase: (RSS at N − RSS at 0) / N per socket.
 * 3. Idle: CPU of the tree over one ping interval (25 s: every socket pinged once, answered).
 * 4. Broadcasts: 10 POST /emit to everyone, one at a time (the next once the last socket got the
 *    previous one, or after 20 s); each client process records every arrival on the same clock as
 *    the bench's stamp; completion = last arrival − stamp; p50/p99 over the 10 broadcasts, and of
 *    all deliveries.
 *
 * Every wait has a timeout, the whole bench a budget (`--budget=<s>`, default 570), and every
 * process it starts (gateway tree, clients, redis-server) is killed on exit and on error. Raw rows
 * accumulate in bench/results.scale.json (per mode, build, size, workers: the latest run), which
 * renders the generated part of bench/RESULTS.scale.md (quick runs: RESULTS.scale.quick.md).
 */
import { execFileSync, fork, type ChildProcess } from "node:child_process";
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { request } from "node:http";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { format, resolveConfig } from "prettier";
import { freePort } from "../test/helpers/ports.js";
import { EPHEMERAL_REDIS_ARGS, startRedisProcess } from "../test/helpers/redis-process.js";
import type { ClientTask, ConnectedReport } from "./scale-client.js";
import { NO_CLIENT_LIMITS, RunningSystem, cpuSeconds, gatewayStartArgs, processTree, rssBytes, type SystemSpec } from "./systems.js";

const root = fileURLToPath(new URL("..", import.meta.url));
const arg = (name: string): string | undefined => process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
const quick = process.argv.includes("--quick");
const moonshot = process.argv.includes("--moonshot");
const mode: "redis" | "single" = arg("mode") === "single" ? "single" : "redis";
const SIZES = (arg("sizes") ?? (moonshot ? "100000" : quick ? "10000" : "10000,30000,60000")).split(",").map(Number);
const WORKERS = Number(arg("workers") ?? (moonshot ? 6 : 4));
const IDLE_MS = Number(arg("idle") ?? (quick ? 20 : 25)) * 1000;
const BROADCASTS = Number(arg("broadcasts") ?? 10);
/** `--rounds=2`: each size runs the builds in A B, then B A order (one row per run). */
const ROUNDS = Number(arg("rounds") ?? 1);
const IN_FLIGHT = Number(arg("in-flight") ?? 400);
const BUDGET_MS = Number(arg("budget") ?? (quick ? 110 : 570)) * 1000;
const PER_PROCESS = 15_000;
const BROADCAST_TIMEOUT = 20_000;
const EMIT_TOKEN = "scale-bench-token";

interface Build {
  label: string;
  root: string;
  commit: string;
}

const git = (...args: string[]): string => execFileSync("git", ["-C", root, ...args], { encoding: "utf8" }).trim();
const dirty = git("status", "--porcelain", "--", "gateway", "adapter", "common", "cli").length > 0;
const BUILDS: Build[] = [{ label: "after", root, commit: git("rev-parse", "--short", "HEAD") + (dirty ? "+changes" : "") }];
if (process.env.BENCH_BASELINE_ROOT) {
  BUILDS.push({ label: "before", root: process.env.BENCH_BASELINE_ROOT, commit: process.env.BENCH_BASELINE_COMMIT ?? process.env.BENCH_BASELINE_ROOT });
}

// ---------------------------------------------------------------------------------------------
// Processes: everything started is listed here and killed on any exit.

const started = new Set<ChildProcess>();
function killTree(child: ChildProcess): void {
  if (child.pid === undefined) return;
  for (const pid of processTree(child.pid).reverse()) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // already gone
    }
  }
}
process.on("exit", () => started.forEach(killTree));
for (const signal of ["SIGINT", "SIGTERM"] as const) process.on(signal, () => process.exit(130));

function exited(child: ChildProcess, ms = 10_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    child.once("exit", () => (clearTimeout(timer), resolve()));
  });
}

/** Kills a process tree at once (SIGKILL: 60,000 sockets need no graceful drain) and waits for its root. */
async function kill(child: ChildProcess): Promise<void> {
  killTree(child);
  await exited(child);
  started.delete(child);
}

/** Resident memory of one process alone. */
function ownRssBytes(pid: number): number {
  try {
    return Number(readFileSync(`/proc/${pid}/statm`, "utf8").split(" ")[1]) * 4096;
  } catch {
    return 0;
  }
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const now = (): number => performance.timeOrigin + performance.now();

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms / 1000} s`)), ms);
    promise.then(
      (value) => (clearTimeout(timer), resolve(value)),
      (error: Error) => (clearTimeout(timer), reject(error)),
    );
  });
}

// ---------------------------------------------------------------------------------------------
// The kernel's view: listen queue overflows and retransmissions, machine-wide.

function kernelCounters(): Record<string, number> {
  const read = (file: string, prefix: string, names: string[]): Record<string, number> => {
    const lines = readFileSync(file, "utf8")
      .split("\n")
      .filter((line) => line.startsWith(prefix));
    const keys = lines[0].split(/\s+/).slice(1);
    const values = lines[1].split(/\s+/).slice(1).map(Number);
    return Object.fromEntries(names.map((name) => [name, values[keys.indexOf(name)]]));
  };
  return { ...read("/proc/net/netstat", "TcpExt:", ["ListenOverflows", "ListenDrops"]), ...read("/proc/net/snmp", "Tcp:", ["RetransSegs"]) };
}

/** CPU seconds (user + system) of one process alone, not its children (the primary without its workers). */
function ownCpuSeconds(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
    return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in USER_HZ ticks
  } catch {
    return 0;
  }
}

/** System (kernel) CPU seconds of process trees: on loopback the kernel's TCP work lands on whichever side is running. */
function systemSeconds(roots: number[]): number {
  let ticks = 0;
  for (const pid of roots.flatMap((root) => processTree(root))) {
    try {
      ticks += Number(readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ")[12]); // stime
    } catch {
      // exited meanwhile
    }
  }
  return ticks / 100;
}

function delta(after: Record<string, number>, before: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.keys(after).map((key) => [key, after[key] - before[key]]));
}

// ---------------------------------------------------------------------------------------------
// One run.

interface Row {
  mode: string;
  build: string;
  round: number;
  commit: string;
  sockets: number;
  workers: number;
  clientProcesses: number;
  date: string;
  node: string;
  load: string;
  connect: {
    connected: number;
    failed: number;
    errors: string[];
    seconds: number;
    quartilesSeconds: number[];
    perSlot: Record<string, number>;
    cpu: { gateway: number; primary: number; clients: number; redis: number; gatewaySystem: number; clientsSystem: number };
    kernel: Record<string, number>;
  };
  memory: {
    treeAtZeroMB: number;
    treeAtNMB: number;
    kbPerSocket: number;
    kbPerSocketAtConnect: number;
    primaryKbPerSocket: number;
    perWorker: { slot: number; sockets: number; kbPerSocket: number }[];
  };
  idle: { seconds: number; gatewayCpuPercent: number; redisCpuPercent: number; clientsCpuPercent: number; dropped: number };
  broadcasts: {
    sent: number;
    completeMs: number[];
    p50: number;
    p99: number;
    deliveryP50: number;
    deliveryP99: number;
    missing: number;
    cpu: {
      gateway: number;
      primary: number;
      clients: number;
      redis: number;
      gatewaySystem: number;
      clientsSystem: number;
      usPerDelivery: number;
      clientUsPerDelivery: number;
    };
  };
}

const percentile = (values: number[], p: number): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
};
const round = (value: number, digits = 1): number => Math.round(value * 10 ** digits) / 10 ** digits;

function spec(build: Build, workers: number): SystemSpec {
  return {
    name: `sio-gateway ${build.label} (${mode}, ${workers} workers)`,
    kind: "socketio",
    redis: mode === "redis",
    command: (port, redisUrl) =>
      gatewayStartArgs({
        build: build.root,
        port,
        workers,
        redisUrl: mode === "redis" ? redisUrl : undefined,
        app: `${root}bench/app-scale.mjs`,
        flags: ["--emit-token", EMIT_TOKEN, ...NO_CLIENT_LIMITS],
      }),
  };
}

class ClientProcess {
  private readonly waiters = new Map<string, (message: object) => void>();
  readonly child: ChildProcess;

  constructor() {
    this.child = fork(fileURLToPath(new URL("./scale-client.ts", import.meta.url)), ["--client"], {
      execArgv: ["--import", "tsx"],
      stdio: ["ignore", "inherit", "inherit", "ipc"],
    });
    started.add(this.child);
    this.child.on("message", (message: { type: string; index?: number; error?: string }) => {
      // A client that fails ends the bench (the exit handler kills every process it started).
      if (message.type === "error") throw new Error(`client ${this.child.pid}: ${message.error}`);
      const key = `${message.type}:${message.index ?? ""}`;
      const waiter = this.waiters.get(key);
      this.waiters.delete(key);
      waiter?.(message);
    });
  }

  /** Resolves with the next message of `type` (for broadcast `index`). */
  next<T>(type: string, index?: number): Promise<T> {
    return new Promise((resolve) => this.waiters.set(`${type}:${index ?? ""}`, resolve as (message: object) => void));
  }

  send(message: object): void {
    this.child.send(message);
  }
}

function emit(port: number, index: number): Promise<number> {
  const body = JSON.stringify({ event: "b", data: index });
  return new Promise((resolve, reject) => {
    const req = request(
      {
        port,
        host: "127.0.0.1",
        path: "/emit",
        method: "POST",
        agent: false,
        headers: { authorization: `Bearer ${EMIT_TOKEN}`, "content-type": "application/json" },
      },
      (res) => (res.resume(), resolve(res.statusCode ?? 0)),
    );
    req.on("error", reject);
    req.end(body);
  });
}

async function run(build: Build, runOfSize: number, sockets: number, workers: number, redisUrl: string, redisPid: number): Promise<Row> {
  const workersFile = join(tmpdir(), `sio-scale-workers-${process.pid}.txt`);
  rmSync(workersFile, { force: true });
  process.env.SCALE_WORKERS_FILE = workersFile;
  const port = await freePort();
  const system = await RunningSystem.start(spec(build, workers), port, redisUrl);
  started.add(system.child);
  const clients: ClientProcess[] = [];
  try {
    const gatewayPid = system.child.pid!;
    await sleep(2000); // workers settle after `ready`
    const slotPids = new Map(
      readFileSync(workersFile, "utf8")
        .trim()
        .split("\n")
        .map((line) => line.split(" ").map(Number) as [number, number]),
    );
    const rssAtZero = rssBytes(gatewayPid);
    const primaryRssAtZero = ownRssBytes(gatewayPid);
    const workerRssAtZero = new Map([...slotPids].map(([slot, pid]) => [slot, rssBytes(pid)]));

    const processes = Math.max(2, Math.ceil(sockets / PER_PROCESS));
    for (let p = 0; p < processes; p++) clients.push(new ClientProcess());
    const clientsCpu = (): number => clients.reduce((sum, client) => sum + cpuSeconds(client.child.pid!), 0);
    await sleep(1500); // tsx loads in each client before the task arrives (the load is the same for every run)

    // 1. Connect.
    const phaseTimeout = 30_000 + sockets * 2;
    const clientPids = clients.map((client) => client.child.pid!);
    /** CPU seconds so far, per part (user + system; and system alone for the kernel's share). */
    const cpuNow = () => ({
      gateway: cpuSeconds(gatewayPid),
      primary: ownCpuSeconds(gatewayPid),
      clients: clientsCpu(),
      redis: cpuSeconds(redisPid),
      gatewaySystem: systemSeconds([gatewayPid]),
      clientsSystem: systemSeconds(clientPids),
    });
    const cpu0 = cpuNow();
    const kernel0 = kernelCounters();
    const reports = await withTimeout(
      Promise.all(
        clients.map((client, p) => {
          const count = Math.floor(sockets / processes) + (p < sockets % processes ? 1 : 0);
          const task: ClientTask = {
            port,
            count,
            addressBlock: 10 + p * 2,
            concurrency: Math.ceil(IN_FLIGHT / processes),
            handshakeTimeout: 30_000,
            phaseTimeout,
          };
          const reply = client.next<ConnectedReport>("connected");
          client.send({ type: "task", ...task });
          return reply;
        }),
      ),
      phaseTimeout + 35_000,
      "connect phase",
    );
    const connectCpu = {
      gateway: round(cpuSeconds(gatewayPid) - cpu0.gateway, 2),
      primary: round(ownCpuSeconds(gatewayPid) - cpu0.primary, 2),
      clients: round(clientsCpu() - cpu0.clients, 2),
      redis: round(cpuSeconds(redisPid) - cpu0.redis, 2),
      gatewaySystem: round(systemSeconds([gatewayPid]) - cpu0.gatewaySystem, 2),
      clientsSystem: round(systemSeconds(clientPids) - cpu0.clientsSystem, 2),
    };
    const kernel = delta(kernelCounters(), kernel0);
    const startedAt = Math.min(...reports.map((r) => r.startedAt));
    const connected = reports.reduce((sum, r) => sum + r.connected, 0);
    const perSlot: Record<string, number> = {};
    for (const report of reports) for (const [slot, n] of Object.entries(report.perSlot)) perSlot[slot] = (perSlot[slot] ?? 0) + n;
    const connect: Row["connect"] = {
      connected,
      failed: reports.reduce((sum, r) => sum + r.failed, 0),
      errors: [...new Set(reports.flatMap((r) => r.errors))].slice(0, 5),
      seconds: round((Math.max(...reports.map((r) => r.finishedAt)) - startedAt) / 1000, 2),
      // Each process's quartiles, the slowest process's figure (they run side by side).
      quartilesSeconds: [0, 1, 2, 3].map((q) => round(Math.max(...reports.map((r) => r.startedAt - startedAt + r.quartiles[q])) / 1000, 1)),
      perSlot,
      cpu: connectCpu,
      kernel,
    };
    console.log(
      `  ${build.label} ${sockets}: connected ${connected}/${sockets} in ${connect.seconds} s (failed ${connect.failed}) cpu ${JSON.stringify(connectCpu)}`,
    );
    if (connected === 0) throw new Error(`${build.label} ${sockets}: no socket connected (${connect.errors.join("; ")})`);
    const rssAtConnect = rssBytes(gatewayPid);

    // 2 and 3. Idle: one ping interval; then memory.
    const idle0 = { gateway: cpuSeconds(gatewayPid), clients: clientsCpu(), redis: cpuSeconds(redisPid), at: now() };
    await sleep(IDLE_MS);
    const idleSeconds = (now() - idle0.at) / 1000;
    const percent = (seconds: number): number => round((100 * seconds) / idleSeconds, 1);
    const idle: Row["idle"] = {
      seconds: round(idleSeconds, 1),
      gatewayCpuPercent: percent(cpuSeconds(gatewayPid) - idle0.gateway),
      redisCpuPercent: percent(cpuSeconds(redisPid) - idle0.redis),
      clientsCpuPercent: percent(clientsCpu() - idle0.clients),
      dropped: 0,
    };
    const rssAtN = rssBytes(gatewayPid);
    const perSocket = (bytes: number, n: number): number => round(bytes / Math.max(1, n) / 1024, 2);
    const memory: Row["memory"] = {
      treeAtZeroMB: round(rssAtZero / 2 ** 20),
      treeAtNMB: round(rssAtN / 2 ** 20),
      kbPerSocket: perSocket(rssAtN - rssAtZero, connected),
      kbPerSocketAtConnect: perSocket(rssAtConnect - rssAtZero, connected),
      primaryKbPerSocket: perSocket(ownRssBytes(gatewayPid) - primaryRssAtZero, connected),
      perWorker: [...slotPids]
        .sort(([a], [b]) => a - b)
        .map(([slot, pid]) => ({ slot, sockets: perSlot[slot] ?? 0, kbPerSocket: perSocket(rssBytes(pid) - workerRssAtZero.get(slot)!, perSlot[slot] ?? 0) })),
    };
    console.log(`  memory ${memory.kbPerSocket} KB/socket (at connect ${memory.kbPerSocketAtConnect}); idle gateway CPU ${idle.gatewayCpuPercent} %`);

    // 4. Broadcasts, one at a time.
    const completeMs: number[] = [];
    const deliveries: number[] = [];
    let missing = 0;
    let dropped = 0;
    const bcast0 = cpuNow();
    const broadcastDeadline = now() + 150_000;
    for (let index = 0; index < BROADCASTS && now() < broadcastDeadline; index++) {
      const expecting = await withTimeout(
        Promise.all(
          clients.map((client) => {
            const reply = client.next<{ open: number }>("expecting", index);
            client.send({ type: "expect", index });
            return reply;
          }),
        ),
        10_000,
        "expect",
      );
      const open = expecting.reduce((sum, e) => sum + e.open, 0);
      const complete = Promise.all(clients.map((client) => client.next("complete", index)));
      const sentAt = now();
      const status = await emit(port, index);
      if (status !== 202) throw new Error(`POST /emit answered ${status}`);
      await Promise.race([complete, sleep(BROADCAST_TIMEOUT)]);
      const reports = await withTimeout(
        Promise.all(
          clients.map((client) => {
            const reply = client.next<{ arrivals: number[]; dropped: number }>("broadcast", index);
            client.send({ type: "report", index, sentAt });
            return reply;
          }),
        ),
        10_000,
        "report",
      );
      const arrivals = reports.flatMap((r) => r.arrivals);
      dropped = reports.reduce((sum, r) => sum + r.dropped, 0);
      missing += open - arrivals.length;
      completeMs.push(round(Math.max(...arrivals))); // with `missing` beside it when not every socket got it
      for (const a of arrivals) deliveries.push(a);
      console.log(`  broadcast ${index}: ${arrivals.length}/${open} in ${round(Math.max(...arrivals))} ms`);
      await sleep(300);
    }
    const totalDeliveries = deliveries.length;
    const gatewayBroadcastCpu = cpuSeconds(gatewayPid) - bcast0.gateway;
    const clientsBroadcastCpu = clientsCpu() - bcast0.clients;
    idle.dropped = dropped;
    const broadcasts: Row["broadcasts"] = {
      sent: completeMs.length,
      completeMs,
      p50: percentile(completeMs, 50),
      p99: percentile(completeMs, 99),
      deliveryP50: round(percentile(deliveries, 50)),
      deliveryP99: round(percentile(deliveries, 99)),
      missing,
      cpu: {
        gateway: round(gatewayBroadcastCpu, 2),
        primary: round(ownCpuSeconds(gatewayPid) - bcast0.primary, 2),
        clients: round(clientsBroadcastCpu, 2),
        redis: round(cpuSeconds(redisPid) - bcast0.redis, 2),
        gatewaySystem: round(systemSeconds([gatewayPid]) - bcast0.gatewaySystem, 2),
        clientsSystem: round(systemSeconds(clientPids) - bcast0.clientsSystem, 2),
        usPerDelivery: round((gatewayBroadcastCpu * 1e6) / Math.max(1, totalDeliveries), 2),
        clientUsPerDelivery: round((clientsBroadcastCpu * 1e6) / Math.max(1, totalDeliveries), 2),
      },
    };
    return {
      mode,
      build: build.label,
      round: runOfSize,
      commit: build.commit,
      sockets,
      workers,
      clientProcesses: processes,
      date: new Date().toISOString(),
      node: process.version,
      load: loadavg()
        .map((l) => l.toFixed(2))
        .join(" "),
      connect,
      memory,
      idle,
      broadcasts,
    };
  } finally {
    await Promise.all([...clients.map((client) => kill(client.child)), kill(system.child)]);
    rmSync(workersFile, { force: true });
  }
}

// ---------------------------------------------------------------------------------------------
// Results: the latest row per (mode, build, sockets, workers), rendered into RESULTS.scale.md
// between the markers; the rest of the file (the analysis) is kept as written.

const JSON_FILE = join(root, "bench", quick ? "results.scale.quick.json" : "results.scale.json");
const MD_FILE = join(root, "bench", quick ? "RESULTS.scale.quick.md" : "RESULTS.scale.md");
const START = "<!-- generated by bench/scale.ts: start -->";
const END = "<!-- generated by bench/scale.ts: end -->";

const key = (row: Row): string => `${row.mode}|${row.build}|${row.sockets}|${row.workers}|${row.round ?? 1}`;

function render(rows: Row[]): string {
  const sorted = [...rows].sort((a, b) => a.mode.localeCompare(b.mode) || a.sockets - b.sockets || a.workers - b.workers || b.build.localeCompare(a.build));
  const f = (value: number): string => (Number.isFinite(value) ? String(value) : "—");
  const head = (r: Row): string =>
    `| ${r.mode} | ${r.sockets.toLocaleString("en")} / ${r.workers} | ${r.build} \`${r.commit}\`${(r.round ?? 1) > 1 ? ` (run ${r.round})` : ""} |`;
  const lines = [
    START,
    "",
    "Connect, memory, idle:",
    "",
    "| mode | sockets / workers | build | connected (failed) | connect s (25 / 50 / 75 %) | connect CPU s: gateway (primary; kernel) · clients (kernel) · redis | KB RSS per socket, idle (at connect) | KB per socket: primary · workers 0…n | idle CPU %: gateway · redis | listen overflows | when (UTC) · load 1/5/15 min · node |",
    "|---|---|---|---|---|---|---|---|---|---|---|",
  ];
  for (const r of sorted) {
    const c = r.connect;
    lines.push(
      `${head(r)} ${c.connected.toLocaleString("en")} (${c.failed}) | ${c.seconds} (${c.quartilesSeconds.slice(0, 3).join(" / ")}) | ` +
        `${c.cpu.gateway} (${c.cpu.primary}; ${c.cpu.gatewaySystem}) · ${c.cpu.clients} (${c.cpu.clientsSystem}) · ${c.cpu.redis} | ${r.memory.kbPerSocket} (${r.memory.kbPerSocketAtConnect}) | ` +
        `${r.memory.primaryKbPerSocket} · ${r.memory.perWorker.map((w) => w.kbPerSocket).join(" · ")} | ${r.idle.gatewayCpuPercent} · ${r.idle.redisCpuPercent} | ` +
        `${c.kernel.ListenOverflows} | ${r.date.slice(0, 16).replace("T", " ")} · ${r.load} · ${r.node} |`,
    );
  }
  lines.push(
    "",
    "Broadcasts to all (POST /emit), one at a time:",
    "",
    "| mode | sockets / workers | build | to all, ms: p50 · p99 (broadcasts) | per delivery, ms: p50 · p99 | missing | CPU s over the 10: gateway (primary; kernel) · clients (kernel) · redis | µs per delivery: gateway · clients |",
    "|---|---|---|---|---|---|---|---|",
  );
  for (const r of sorted) {
    const b = r.broadcasts;
    lines.push(
      `${head(r)} ${f(b.p50)} · ${f(b.p99)} (${b.sent}) | ${b.deliveryP50} · ${b.deliveryP99} | ${b.missing} | ${b.cpu.gateway} (${b.cpu.primary}; ${b.cpu.gatewaySystem ?? "—"}) · ${b.cpu.clients} (${b.cpu.clientsSystem ?? "—"}) · ${b.cpu.redis} | ${b.cpu.usPerDelivery} · ${b.cpu.clientUsPerDelivery} |`,
    );
  }
  lines.push("", END);
  return lines.join("\n");
}

async function save(row: Row): Promise<void> {
  const rows: Row[] = existsSync(JSON_FILE) ? (JSON.parse(readFileSync(JSON_FILE, "utf8")) as Row[]) : [];
  const kept = rows.filter((r) => key(r) !== key(row));
  kept.push(row);
  writeFileSync(JSON_FILE, JSON.stringify(kept, null, 2) + "\n");
  const current = existsSync(MD_FILE) ? readFileSync(MD_FILE, "utf8") : `# Idle sockets at scale (\`npm run bench:scale\`)\n\n${START}\n${END}\n`;
  const at = current.indexOf(START);
  const end = current.indexOf(END);
  const next = at >= 0 && end > at ? current.slice(0, at) + render(kept) + current.slice(end + END.length) : `${current}\n${render(kept)}\n`;
  // Formatted as the repository's Prettier check wants it (tables padded).
  writeFileSync(MD_FILE, await format(next, { ...(await resolveConfig(MD_FILE)), filepath: MD_FILE }));
}

// ---------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const benchStart = now();
  setTimeout(() => {
    console.error(`bench:scale: over its ${BUDGET_MS / 1000} s budget, stopping`);
    process.exit(1);
  }, BUDGET_MS).unref();
  const redisPort = await freePort();
  const redis = mode === "redis" ? await startRedisProcess(["--port", String(redisPort), ...EPHEMERAL_REDIS_ARGS]) : undefined;
  if (redis) started.add(redis);
  const redisUrl = `redis://127.0.0.1:${redisPort}`;
  console.log(
    `bench:scale: ${mode} mode, sizes ${SIZES.join(", ")}, ${WORKERS} workers, builds ${BUILDS.map((b) => `${b.label} ${b.commit}`).join(", ")}; load ${loadavg()[0].toFixed(2)}`,
  );
  try {
    let pairs = 0;
    for (const sockets of SIZES) {
      for (let runOfSize = 1; runOfSize <= ROUNDS; runOfSize++) {
        const order = pairs++ % 2 === 0 ? BUILDS : [...BUILDS].reverse();
        for (const build of order) {
          if (now() - benchStart > BUDGET_MS - 30_000) {
            console.log(`  skipping ${build.label} ${sockets}: budget`);
            continue;
          }
          await save(await run(build, runOfSize, sockets, WORKERS, mode === "redis" ? redisUrl : "", redis?.pid ?? 0));
        }
      }
    }
  } finally {
    if (redis) await kill(redis);
  }
  console.log(`bench:scale: done in ${round((now() - benchStart) / 1000)} s; ${MD_FILE}`);
}

main().then(
  () => process.exit(0),
  (error: Error) => {
    console.error(error);
    process.exit(1);
  },
);
