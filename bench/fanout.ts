/**
 * Fan-out side by side (`npm run bench:fanout`, about 5 min): for each system, a fresh server per
 * round, light raw-protocol clients spread over LOADS forked processes (so the load side is not
 * the bottleneck, as the one socket.io-client process of bench/run.ts is), grown to each size in
 * turn (1,000 then 10,000 WebSocket sockets); at each size:
 *   - flood: one client asks for `messages` broadcasts to all at once (the app's `flood`);
 *     deliveries/s, and the server's CPU per delivery (its whole process tree, /proc) over the
 *     flood only (bench/run.ts counts the connects and closes in it too);
 *   - stamps: 10 single broadcasts one after the other (the app's `stamp`, carrying the server's
 *     clock at the emit); broadcast-to-all completion time = last arrival − emit, p50/p99;
 *   - connect time and RSS per socket of the step up to that size (tree RSS after − before).
 * Rounds alternate the systems (A B C … A B C …); tables give medians and the spread. On 2
 * shared cores the completion times include the load processes' own work (they share the cores).
 *
 * Options: `--quick` (1 round, 1,000 sockets), `--rounds=N`, `--sizes=1000,10000`,
 * `--systems=<comma words>` (substrings of the names below), `--workers=N` (gateway systems,
 * default 2), `--messages=N` (broadcasts per flood; default 100 below 5,000 sockets, 20 from
 * there), `--budget=<s>` (no system starts after it; default 290), `--cpu-prof=<dir>` (servers run
 * with --cpu-prof into <dir>: for profiles, not figures), `--out=<file>` (markdown, default
 * bench/RESULTS.fanout.quick.md, ignored by git). The eiows systems need eiows installed at EIOWS_PATH (see
 * bench/app-eiows.mjs) and Node ≥ 22.9: run the whole bench under that node.
 */
import { fork, type ChildProcess } from "node:child_process";
import { existsSync, writeFileSync } from "node:fs";
import { loadavg } from "node:os";
import { fileURLToPath } from "node:url";
import { WebSocket } from "ws";
import { freePort } from "../test/helpers/ports.js";
import { RedisServer } from "../test/helpers/redis-server.js";
import { NO_CLIENT_LIMITS, cpuSeconds, gatewayStartArgs, rssBytes, startServerProcess, stopProcessTree } from "./systems.js";
import { median, fmt } from "./stats.js";

const here = fileURLToPath(new URL(".", import.meta.url));
const LOADS = 2;
const STAMPS = 10;
const now = (): number => performance.timeOrigin + performance.now();
const messagesOverride = process.argv.find((a) => a.startsWith("--messages="))?.slice(11);

// ---------------------------------------------------------------------------------------------
// The load process (`--load`): light clients, counting bytes, not parsing them.
// ---------------------------------------------------------------------------------------------

type Kind = "socketio" | "ws";
interface LoadTask {
  type: "task";
  port: number;
  kind: Kind;
  first: number;
  count: number;
}
type ToLoad =
  LoadTask | { type: "grow"; count: number } | { type: "flood"; messages: number; emit: boolean } | { type: "stamp"; emit: boolean } | { type: "close" };

/** 127.x.y.z from 127.1.1.1 up, one per client (the gateway routes by client IP, so they spread over the workers). */
const clientAddress = (n: number): string => `127.${1 + Math.floor(n / 62_500)}.${1 + (Math.floor(n / 250) % 250)}.${1 + (n % 250)}`;

const TICK = Buffer.from("tick");
const STAMP = Buffer.from("stamp");

/** Where the event name starts: `42["tick",…]` for Socket.IO, `["tick",…]` for raw ws. */
function eventNameAt(kind: Kind): number {
  return kind === "socketio" ? 4 : 2;
}

function connectOne(task: LoadTask, n: number, onEvent: (data: Buffer) => void): Promise<WebSocket> {
  const url = task.kind === "socketio" ? `ws://127.0.0.1:${task.port}/socket.io/?EIO=4&transport=websocket` : `ws://127.0.0.1:${task.port}/`;
  const ws = new WebSocket(url, { localAddress: clientAddress(n), perMessageDeflate: false, skipUTF8Validation: true });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => (ws.terminate(), reject(new Error("no connection within 30 s"))), 30_000);
    ws.once("error", (error) => (clearTimeout(timer), reject(error)));
    let open = false;
    ws.on("message", (data: Buffer) => {
      if (open) {
        if (data.length === 1 && data[0] === 0x32) ws.send("3");
        else onEvent(data);
        return;
      }
      const text = data.toString();
      if (task.kind === "ws" ? text.startsWith('["hello"') : text.startsWith("42") && text.includes('"hello"')) {
        open = true;
        clearTimeout(timer);
        resolve(ws);
      } else if (text.startsWith("0")) ws.send("40");
      else if (text.startsWith("44")) reject(new Error(`connect_error: ${text}`));
    });
  });
}

async function runLoad(): Promise<void> {
  const send = (message: object): void => void process.send!(message);
  const task = await new Promise<LoadTask>((resolve) => process.once("message", resolve));
  const at = eventNameAt(task.kind);
  let ticks = 0;
  let lastTick = 0;
  let expectedTicks = Infinity;
  const stamps = new Map<number, number>();
  const onEvent = (data: Buffer): void => {
    if (data.compare(TICK, 0, 4, at, at + 4) === 0) {
      lastTick = now();
      if (++ticks === expectedTicks) send({ type: "flood-done", received: ticks, last: lastTick });
    } else if (data.compare(STAMP, 0, 5, at, at + 5) === 0) {
      // Counted per stamp value (the server's clock at the emit), so no reset can race the arrivals.
      const text = data.toString();
      // `…["stamp",<ms>]`, or `…["stamp",<ms>,"<offset>"]` with connection-state recovery.
      const sentAt = Number(/^[^,]*,([^,\]]+)/.exec(text)?.[1]);
      const count = (stamps.get(sentAt) ?? 0) + 1;
      stamps.set(sentAt, count);
      if (count === sockets.length) {
        stamps.delete(sentAt);
        send({ type: "stamp-done", received: count, last: now(), sentAt });
      }
    }
  };
  const sockets: WebSocket[] = [];
  let failed = 0;
  let tried = 0;
  /** Connects up to `target` clients in all (100 at a time) and reports the step. */
  const grow = async (target: number): Promise<void> => {
    const started = now();
    const failedBefore = failed;
    const worker = async (): Promise<void> => {
      while (tried < target) {
        const n = task.first + tried++;
        await connectOne(task, n, onEvent).then(
          (ws) => sockets.push(ws),
          () => failed++,
        );
      }
    };
    await Promise.all(Array.from({ length: 100 }, worker));
    send({ type: "connected", clients: sockets.length, failed: failed - failedBefore, ms: now() - started });
  };
  await grow(task.count);

  let quiet: NodeJS.Timeout | undefined;
  process.on("message", (message: ToLoad) => {
    if (message.type === "flood") {
      ticks = 0;
      lastTick = 0;
      expectedTicks = sockets.length * message.messages;
      const startedFlood = now();
      clearInterval(quiet);
      // Bounded: every delivery, or 3 s without one (the rest is lost), or 60 s in all.
      quiet = setInterval(() => {
        if (ticks === expectedTicks) return clearInterval(quiet);
        if (now() - Math.max(lastTick, startedFlood) > 3000 || now() - startedFlood > 60_000) {
          clearInterval(quiet);
          expectedTicks = Infinity;
          send({ type: "flood-done", received: ticks, last: lastTick });
        }
      }, 250);
      if (message.emit)
        sockets[0].send(task.kind === "socketio" ? `42${JSON.stringify(["flood", message.messages])}` : JSON.stringify(["flood", message.messages]));
      send({ type: "flood-armed" });
    } else if (message.type === "stamp") {
      if (message.emit) sockets[0].send(task.kind === "socketio" ? `42["stamp"]` : `["stamp"]`);
    } else if (message.type === "grow") {
      void grow(message.count);
    } else if (message.type === "close") {
      clearInterval(quiet);
      for (const ws of sockets) ws.terminate();
      process.exit(0);
    }
  });
}

// ---------------------------------------------------------------------------------------------
// The systems.
// ---------------------------------------------------------------------------------------------

interface FanoutSystem {
  name: string;
  kind: Kind;
  redis: boolean;
  /** Arguments to node. */
  command(port: number, redisUrl: string, workers: number): string[];
  /** Extra environment (a lever's A/B switch). */
  env?: Record<string, string>;
}

const baselineRoot = process.env.BENCH_BASELINE_ROOT ?? "/tmp/sio-base";
const eiowsApp = `${here}app-eiows.mjs`;

function gateway(name: string, options: { redis: boolean; app: string; build?: string }): FanoutSystem {
  return {
    name,
    kind: "socketio",
    redis: options.redis,
    command: (port, redisUrl, workers) =>
      gatewayStartArgs({ build: options.build, port, workers, redisUrl: options.redis ? redisUrl : undefined, app: options.app, flags: NO_CLIENT_LIMITS }),
  };
}

const tsx = ["--import", "tsx"];
const ALL_SYSTEMS: FanoutSystem[] = [
  gateway("gateway (redis)", { redis: true, app: `${here}app.mjs` }),
  gateway("gateway (single machine)", { redis: false, app: `${here}app.mjs` }),
  gateway("gateway baseline (redis)", { redis: true, app: `${here}app.mjs`, build: `${baselineRoot}/` }),
  gateway("gateway baseline (single machine)", { redis: false, app: `${here}app.mjs`, build: `${baselineRoot}/` }),
  gateway("gateway recovery (redis)", { redis: true, app: `${here}app-recovery.mjs` }),
  gateway("gateway recovery (single machine)", { redis: false, app: `${here}app-recovery.mjs` }),
  gateway("gateway eiows (single machine)", { redis: false, app: eiowsApp }),
  gateway("gateway eiows (redis)", { redis: true, app: eiowsApp }),
  { name: "standard recipe (sticky + redis)", kind: "socketio", redis: true, command: () => [...tsx, `${here}servers/sticky-recipe.ts`] },
  { name: "one socket.io process", kind: "socketio", redis: false, command: () => [...tsx, `${here}servers/single-process.ts`] },
  { name: "raw ws (ceiling)", kind: "ws", redis: false, command: () => [...tsx, `${here}servers/raw-ws.ts`] },
];
const DEFAULT_SYSTEMS = ["gateway (redis)", "gateway (single machine)", "gateway baseline (redis)", "one socket.io process", "raw ws (ceiling)"];

interface Running {
  child: ChildProcess;
  port: number;
}

async function startSystem(system: FanoutSystem, port: number, redisUrl: string, workers: number, cpuProf: string | undefined): Promise<Running> {
  // As node's own flags (Node 20 refuses --cpu-prof in NODE_OPTIONS); cluster workers inherit them.
  const profiling = cpuProf ? ["--cpu-prof", `--cpu-prof-dir=${cpuProf}`, "--cpu-prof-interval=100"] : [];
  const env = { ...process.env, PORT: String(port), REDIS_URL: system.redis ? redisUrl : undefined, WORKERS: String(workers), ...system.env };
  return { child: await startServerProcess(system.name, process.execPath, [...profiling, ...system.command(port, redisUrl, workers)], env), port };
}

/** The gateway's workers drain and exit (writing their --cpu-prof) before what is left is killed. */
function stopSystem({ child }: Running): Promise<void> {
  return stopProcessTree(child, 300);
}

// ---------------------------------------------------------------------------------------------
// One run.
// ---------------------------------------------------------------------------------------------

interface RunResult {
  system: string;
  size: number;
  round: number;
  connected: number;
  failed: number;
  connectSeconds: number;
  rssPerSocket: number;
  deliveries: number;
  expected: number;
  perSecond: number;
  cpuPerDelivery: number;
  stampP50: number;
  stampP99: number;
  stampsComplete: number;
  /** Server CPU per delivery over the stamps (single broadcasts: nothing to batch). */
  stampCpuPerDelivery: number;
}

class Load {
  private readonly waiting = new Map<string, ((message: Record<string, number>) => void)[]>();
  constructor(readonly child: ChildProcess) {
    child.on("message", (message: { type: string } & Record<string, number>) => {
      const queue = this.waiting.get(message.type);
      queue?.shift()?.(message);
    });
  }
  next(type: string, timeout = 120_000): Promise<Record<string, number>> {
    return new Promise((resolve, reject) => {
      const queue = this.waiting.get(type) ?? [];
      const waiter = (message: Record<string, number>): void => (clearTimeout(timer), resolve(message));
      const timer = setTimeout(() => (queue.splice(queue.indexOf(waiter), 1), reject(new Error(`load: no ${type} within ${timeout} ms`))), timeout);
      queue.push(waiter);
      this.waiting.set(type, queue);
    });
  }
  send(message: ToLoad): void {
    this.child.send(message);
  }
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * One fresh system for all sizes of a round: the clients grow to each size in turn (ascending),
 * and each size gets its flood and its stamps. Connect time and RSS per socket are those of the
 * step up to that size.
 */
async function runSystem(
  system: FanoutSystem,
  sizes: number[],
  round: number,
  redisUrl: string,
  workers: number,
  cpuProf: string | undefined,
): Promise<RunResult[]> {
  const running = await startSystem(system, await freePort(), redisUrl, workers, cpuProf);
  const loads: Load[] = [];
  const results: RunResult[] = [];
  try {
    const pid = running.child.pid!;
    const biggest = Math.max(...sizes);
    const share = Math.ceil(biggest / LOADS);
    for (let i = 0; i < LOADS; i++) {
      const env = { ...process.env };
      delete env.NODE_OPTIONS;
      const child = fork(fileURLToPath(import.meta.url), ["--load"], { execArgv: tsx, env, stdio: ["ignore", "inherit", "inherit", "ipc"] });
      loads.push(new Load(child));
    }
    let rssBefore = rssBytes(pid);
    let clientsBefore = 0;
    for (const [step, size] of sizes.entries()) {
      const connectedAll = loads.map((load) => load.next("connected"));
      const counts = loads.map((_, i) => Math.max(0, Math.min(Math.ceil(size / LOADS), size - i * Math.ceil(size / LOADS))));
      loads.forEach((load, i) =>
        step === 0
          ? load.send({ type: "task", port: running.port, kind: system.kind, first: i * share, count: counts[i] })
          : load.send({ type: "grow", count: counts[i] }),
      );
      const connected = await Promise.all(connectedAll);
      const clients = connected.reduce((sum, c) => sum + c.clients, 0);
      const failed = connected.reduce((sum, c) => sum + c.failed, 0);
      const connectSeconds = Math.max(...connected.map((c) => c.ms)) / 1000;
      await sleep(500); // the last hellos settle
      const rss = rssBytes(pid);
      const rssPerSocket = (rss - rssBefore) / Math.max(1, clients - clientsBefore);
      rssBefore = rss;
      clientsBefore = clients;
      results.push({
        system: system.name,
        size,
        round,
        connected: clients,
        failed,
        connectSeconds,
        rssPerSocket,
        ...(await measure(loads, pid, size, clients, cpuProf)),
      });
    }
    return results;
  } finally {
    for (const load of loads) if (load.child.connected) load.send({ type: "close" });
    await stopSystem(running);
  }
}

/** A flood (deliveries/s, server CPU per delivery), then STAMPS single broadcasts (completion times). */
async function measure(
  loads: Load[],
  pid: number,
  size: number,
  clients: number,
  cpuProf: string | undefined,
): Promise<Pick<RunResult, "deliveries" | "expected" | "perSecond" | "cpuPerDelivery" | "stampP50" | "stampP99" | "stampsComplete" | "stampCpuPerDelivery">> {
  const messages = messagesOverride ? Number(messagesOverride) : size >= 5000 ? 20 : 100;
  // Profiling: an idle second on each side of the flood marks it out in the profile.
  if (cpuProf) await sleep(1000);
  const armed = loads.map((load) => load.next("flood-armed"));
  const floods = loads.map((load) => load.next("flood-done"));
  loads.forEach((load, i) => i > 0 && load.send({ type: "flood", messages, emit: false }));
  await Promise.all(armed.slice(1));
  const cpuBefore = cpuSeconds(pid);
  const started = now();
  loads[0].send({ type: "flood", messages, emit: true });
  const done = await Promise.all(floods);
  const cpu = cpuSeconds(pid) - cpuBefore;
  if (cpuProf) await sleep(1000);
  await armed[0];
  const deliveries = done.reduce((sum, d) => sum + d.received, 0);
  const seconds = (Math.max(...done.map((d) => d.last)) - started) / 1000;

  const completions: number[] = [];
  const stampCpuBefore = cpuSeconds(pid);
  for (let s = 0; s < STAMPS; s++) {
    const stamps = loads.map((load) => load.next("stamp-done", 10_000).catch(() => undefined));
    loads.forEach((load, i) => load.send({ type: "stamp", emit: i === 0 }));
    const results = await Promise.all(stamps);
    if (results.every((r) => r !== undefined)) completions.push(Math.max(...results.map((r) => r.last)) - results[0].sentAt);
  }
  const stampCpu = cpuSeconds(pid) - stampCpuBefore;
  completions.sort((a, b) => a - b);
  return {
    stampCpuPerDelivery: stampCpu / Math.max(1, clients * completions.length),
    deliveries,
    expected: clients * messages,
    perSecond: deliveries / seconds,
    cpuPerDelivery: cpu / Math.max(1, deliveries),
    stampP50: percentile(completions, 50),
    stampP99: percentile(completions, 99),
    stampsComplete: completions.length,
  };
}

// ---------------------------------------------------------------------------------------------
// Report.
// ---------------------------------------------------------------------------------------------

function spread(values: number[], digits = 0): string {
  const finite = values.filter(Number.isFinite);
  return finite.length ? `${fmt(Math.min(...finite), digits)}–${fmt(Math.max(...finite), digits)}` : "–";
}

function table(size: number, runs: RunResult[]): string {
  const bySystem = new Map<string, RunResult[]>();
  for (const run of runs.filter((r) => r.size === size)) bySystem.set(run.system, [...(bySystem.get(run.system) ?? []), run]);
  const lines = [
    `### ${fmt(size)} sockets`,
    "",
    "| system | rounds | flood: deliveries/s median (spread) | flood: server CPU µs per delivery median (spread) | single broadcasts: server CPU µs per delivery median (spread) | single broadcast to all, p50 / p99 ms (medians) | connect s | RSS KB per socket | lost |",
    "|---|---|---|---|---|---|---|---|---|",
  ];
  for (const [system, list] of bySystem) {
    const per = list.map((r) => r.perSecond);
    const cpu = list.map((r) => r.cpuPerDelivery * 1e6);
    const stampCpu = list.map((r) => r.stampCpuPerDelivery * 1e6);
    lines.push(
      `| ${system} | ${list.length} | ${fmt(median(per))} (${spread(per)}) | ${fmt(median(cpu), 1)} (${spread(cpu, 1)}) | ${fmt(median(stampCpu), 1)} (${spread(stampCpu, 1)}) | ${fmt(median(list.map((r) => r.stampP50)), 1)} / ${fmt(median(list.map((r) => r.stampP99)), 1)} | ${fmt(median(list.map((r) => r.connectSeconds)), 1)} | ${fmt(median(list.map((r) => r.rssPerSocket / 1024)), 1)} | ${list.map((r) => r.expected - r.deliveries).join(", ")} |`,
    );
  }
  return lines.join("\n");
}

async function main(): Promise<void> {
  const arg = (name: string): string | undefined => process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
  const quick = process.argv.includes("--quick");
  const rounds = Number(arg("rounds") ?? (quick ? 1 : 3));
  const sizes = (arg("sizes") ?? (quick ? "1000" : "1000,10000"))
    .split(",")
    .map(Number)
    .sort((a, b) => a - b);
  const workers = Number(arg("workers") ?? 2);
  const budget = Number(arg("budget") ?? 290) * 1000;
  const cpuProf = arg("cpu-prof");
  const out = arg("out") ?? `${here}RESULTS.fanout.quick.md`;
  const words = arg("systems")?.split(",");
  const systems = words ? ALL_SYSTEMS.filter((s) => words.some((w) => s.name.includes(w))) : ALL_SYSTEMS.filter((s) => DEFAULT_SYSTEMS.includes(s.name));
  const runnable = systems.filter((s) => !s.name.includes("baseline") || existsSync(`${baselineRoot}/dist/cli/main.js`));
  const redis = await RedisServer.start();
  const started = Date.now();
  const load = [loadavg()[0]];
  const runs: RunResult[] = [];
  try {
    outer: for (let round = 1; round <= rounds; round++) {
      for (const system of runnable) {
        if (Date.now() - started > budget) break outer;
        try {
          for (const run of await runSystem(system, sizes, round, redis.url, workers, cpuProf)) {
            runs.push(run);
            process.stdout.write(
              `round ${round} ${fmt(run.size)} ${system.name}: ${fmt(run.perSecond)} deliveries/s, ${fmt(run.cpuPerDelivery * 1e6, 1)} µs CPU/delivery, stamps ${fmt(run.stampCpuPerDelivery * 1e6, 1)} µs CPU/delivery p50 ${fmt(run.stampP50, 1)} p99 ${fmt(run.stampP99, 1)} ms, connect ${fmt(run.connectSeconds, 1)} s, ${fmt(run.rssPerSocket / 1024, 1)} KB/socket, ${run.expected - run.deliveries} lost, ${run.failed} failed\n`,
            );
          }
        } catch (error) {
          process.stdout.write(`round ${round} ${system.name}: FAILED ${error instanceof Error ? error.message : String(error)}\n`);
        }
      }
      load.push(loadavg()[0]);
    }
  } finally {
    await redis.stop();
  }
  const report = [
    `## bench/fanout.ts, ${new Date().toISOString()}`,
    "",
    `Node ${process.version}, ${workers} gateway workers, ${LOADS} load processes, ${rounds} rounds, ${fmt((Date.now() - started) / 1000)} s; load average (1 min) per round: ${load.map((l) => fmt(l, 1)).join(" → ")}.`,
    "",
    ...sizes.flatMap((size) => [table(size, runs), ""]),
  ].join("\n");
  writeFileSync(out, report);
  process.stdout.write(`\n${report}\n`);
}

if (process.argv.includes("--load")) void runLoad();
else await main();
