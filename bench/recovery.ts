/**
 * `npm run bench:recovery` (under 6 minutes with the build) · `npm run bench:recovery -- --quick`
 * (about a minute): what connection-state recovery costs, side by side. Four systems, each started
 * fresh for every run: sio-gateway with 2 workers in Redis mode and in single-machine mode, each
 * with the lean bench app with recovery off (app.mjs) and on (app-recovery.mjs). Rounds run the
 * systems in on/off pairs, off first in odd rounds and on first in even ones (A B B A); every run
 * is bounded in count and time, and no pair starts past the time budget.
 *
 * One run = one fresh system, one forked load process (`--load`) of light raw-protocol clients
 * from distinct 127.0.x.y addresses (socket.io-client parses every packet: 1,000 of them in one
 * process would cost more CPU per delivery than the server, and hide it), then:
 * 1. Fan-out: one client asks for N broadcasts to all (the app's `flood`, `io.emit` in a loop; in
 *    recovery mode each is appended to the log): deliveries/s, and the server CPU per delivery
 *    (`/proc` of the gateway's tree, and of redis-server in Redis mode) from all connected to the
 *    last delivery.
 * 2. Latency: one client sends the app's `stamp` 10 times a second (a broadcast to all stamped
 *    with the server's clock) while a second forked process (`--chat-load`) keeps a steady chat
 *    going (clients in rooms, each chatting once a second): p50/p99 from the emit to receipt.
 * 3. Memory, recovery on: after each Redis fan-out run, `MEMORY USAGE socket.io-log SAMPLES 0`
 *    and XLEN; then one run per mode appending chat-sized messages (the app's `chat`, ~100
 *    characters of text) in two steps: bytes per entry and used_memory's slope in Redis mode, the
 *    primary's heap after a full GC (inspector) and its RSS in single-machine mode.
 *
 * Writes bench/RESULTS.recovery.md (quick: RESULTS.recovery.quick.md).
 */
import { execFileSync, fork, type ChildProcess } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { cpus, loadavg, totalmem } from "node:os";
import { fileURLToPath } from "node:url";
import { Redis } from "ioredis";
import { io as ioClient, type Socket } from "socket.io-client";
import { WebSocket } from "ws";
import { freePort } from "../test/helpers/ports.js";
import { RedisServer } from "../test/helpers/redis-server.js";
import { RawSocketIoClient } from "./raw-socketio-client.js";
import { RunningSystem, SYSTEMS, cpuSeconds, processTree, rssBytes, type SystemSpec } from "./systems.js";
import { median, fmt } from "./stats.js";
import { countFlood } from "./flood.js";

const here = fileURLToPath(new URL(".", import.meta.url));
const quick = process.argv.includes("--quick");
const ROUNDS = quick ? 1 : 3;
/**
 * Bounds, from the bench's start (the build before it takes ~45 s of the 6 min): no new on/off pair
 * of runs starts past PAIRS_BUDGET_MS, no memory run past MEMORY_BUDGET_MS.
 */
const PAIRS_BUDGET_MS = quick ? 40_000 : 200_000;
const MEMORY_BUDGET_MS = quick ? 70_000 : 275_000;
/**
 * `--budget=<s>`: a longer bound for the runs (memory runs get 75 s more), for a machine so busy
 * that 3 rounds do not fit the default (each run then takes 3-4x as long).
 */
const budgetArg = Number(process.argv.find((arg) => arg.startsWith("--budget="))?.slice(9));
const budget = Number.isFinite(budgetArg) && budgetArg > 0 ? { pairs: budgetArg * 1000, memory: budgetArg * 1000 + 75_000 } : undefined;
const size = (full: number, small: number): number => (quick ? small : full);

/** One set of clients per run: the fan-out first, then the latency probe on the same clients. */
const FANOUT = { clients: size(1000, 200), messages: size(100, 50) };
const LATENCY = { rate: 10, duration: size(3000, 2000) };
/** The steady chat beside the latency probe: clients spread over rooms, each chatting once a second. */
const CHAT = { clients: size(100, 20), rooms: size(10, 4), intervalMs: 1000 };
/** Memory phase: entries appended before each measurement (two steps, for a slope). */
const MEMORY_STEPS = quick ? [1000, 4000] : [5000, 20_000];
/** A chat line of 100 characters: the app broadcasts `{ room, text, from, worker, at }`. */
const CHAT_TEXT = "Are we still on for the release review at three? I moved the notes into the shared doc just now ok";
const LOG_KEY = "socket.io-log";
/** How long after the last `stamp` late receipts still count; later ones are reported missing. */
const STAMP_GRACE = 3000;
const RUN_TIMEOUT = 120_000;

interface Variant {
  spec: SystemSpec;
  mode: "redis" | "single machine";
  recovery: boolean;
}

/**
 * Starts a variant fresh. RunningSystem.start puts the Redis URL in the child's REDIS_URL, which
 * the gateway reads as `--redis` (the legacy name of SIO_GATEWAY_REDIS_URL): single-machine
 * variants get an empty one, which it ignores, or they would run in Redis mode.
 */
function startVariant(variant: Variant, port: number, redisUrl: string, spec: SystemSpec = variant.spec): Promise<RunningSystem> {
  return RunningSystem.start(spec, port, variant.mode === "redis" ? redisUrl : "");
}

/** Fails the bench when a system does not use the log it should (recovery on, Redis mode) or uses Redis when it should not. */
async function checkLog(variant: Variant, redis: Redis): Promise<void> {
  const entries = await redis.xlen(LOG_KEY);
  const expected = variant.mode === "redis" && variant.recovery;
  if (expected !== entries > 0) throw new Error(`${variant.spec.name}: ${entries} entries in ${LOG_KEY} after a run (expected ${expected ? "some" : "none"})`);
}

/** The repo's two gateway systems (systems.ts), each with the bench app with recovery off and on. */
function variants(): Variant[] {
  const appOn = fileURLToPath(new URL("./app-recovery.mjs", import.meta.url));
  const result: Variant[] = [];
  for (const [baseName, mode] of [
    ["sio-gateway (redis)", "redis"],
    ["sio-gateway (single machine)", "single machine"],
  ] as const) {
    const base = SYSTEMS.find((spec) => spec.name === baseName);
    if (!base) throw new Error(`systems.ts has no "${baseName}"`);
    for (const recovery of [false, true]) {
      const command = (port: number, redisUrl: string): string[] => {
        const args = base.command(port, redisUrl);
        if (!recovery) return args;
        const app = args.findIndex((arg) => arg.endsWith("/bench/app.mjs"));
        if (app < 0) throw new Error(`${baseName}: no --app bench/app.mjs to replace`);
        return args.map((arg, i) => (i === app ? appOn : arg));
      };
      result.push({ spec: { ...base, name: `${baseName}, recovery ${recovery ? "on" : "off"}`, command }, mode, recovery });
    }
  }
  return result;
}

// ---------------------------------------------------------------------------------------------
// The light client: Engine.IO v4 over a WebSocket, the namespace "/" CONNECT, pings answered, and
// every event packet handed over as its raw text (not parsed unless a listener needs it), so one
// process can receive every delivery of a 1,000-client fan-out without being the only bottleneck.
// (socket.io-client would parse every packet into objects: the load generator would cost more CPU
// per delivery than the server.) Bench-only: no reconnection, no binary, no acknowledgements.

class LightClient {
  onEvent: (packet: string) => void = () => {};

  private constructor(private readonly ws: WebSocket) {}

  static connect(port: number, localAddress: string, timeout = 20_000): Promise<LightClient> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(`ws://127.0.0.1:${port}/socket.io/?EIO=4&transport=websocket`, { localAddress, perMessageDeflate: false });
      const client = new LightClient(ws);
      const timer = setTimeout(() => (ws.terminate(), reject(new Error(`no Socket.IO connection within ${timeout} ms`))), timeout);
      ws.once("error", (error) => (clearTimeout(timer), reject(error)));
      ws.on("message", (data: Buffer) => {
        const packet = data.toString();
        if (packet.startsWith("42")) client.onEvent(packet);
        else if (packet === "2") ws.send("3");
        else if (packet.startsWith("0")) ws.send("40");
        else if (packet.startsWith("40")) {
          clearTimeout(timer);
          resolve(client);
        } else if (packet.startsWith("44")) {
          clearTimeout(timer);
          reject(new Error(`connect_error: ${packet.slice(2)}`));
        }
      });
    });
  }

  emit(event: string, ...args: unknown[]): void {
    this.ws.send(`42${JSON.stringify([event, ...args])}`);
  }

  close(): void {
    this.ws.terminate();
  }
}

/** 127.0.x.y, one per client: each simulated client has its own address (as load.ts). */
const clientAddress = (n: number): string => `127.0.${1 + (Math.floor(n / 250) % 250)}.${1 + (n % 250)}`;

interface LoadTask {
  port: number;
  clients: number;
  messages: number;
  rate: number;
  duration: number;
}

const now = (): number => performance.timeOrigin + performance.now();

function percentile(sorted: number[], p: number): number {
  return sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

/**
 * The load child (`--load`): connects `clients` light clients, says `connected`; on `fanout`, one
 * asks for `messages` broadcasts to all (the app's `flood`) and every delivery is counted (bounded:
 * all of them, 3 s without one, or 60 s); on `latency`, one sends the app's `stamp` `rate` times a
 * second for `duration` ms and every client's receipt is timed against the stamp.
 */
async function lightLoad(task: LoadTask, next: () => Promise<string>): Promise<void> {
  const clients: LightClient[] = [];
  let failed = 0;
  let index = 0;
  await Promise.all(
    Array.from({ length: Math.min(100, task.clients) }, async () => {
      while (index < task.clients) {
        const n = index++;
        try {
          clients.push(await LightClient.connect(task.port, clientAddress(n)));
        } catch {
          failed++;
        }
      }
    }),
  );
  process.send!({ type: "connected", clients: clients.length, failed });

  await next(); // "fanout"
  const expected = clients.length * task.messages;
  const { received, seconds } = await countFlood(
    expected,
    (delivered) => {
      for (const client of clients) client.onEvent = (packet) => packet.startsWith('42["tick"') && delivered();
    },
    () => clients[0].emit("flood", task.messages),
  );
  process.send!({
    type: "fanout",
    result: { clients: clients.length, failed, expected, received, lost: expected - received, seconds, perSecond: received / seconds },
  });

  await next(); // "latency"
  const latencies: number[] = [];
  for (const client of clients)
    client.onEvent = (packet) => {
      if (packet.startsWith('42["stamp"')) latencies.push(now() - (JSON.parse(packet.slice(2)) as [string, number])[1]);
    };
  const sends = Math.round((task.duration / 1000) * task.rate);
  for (let i = 0; i < sends; i++) {
    clients[0].emit("stamp");
    await new Promise((resolve) => setTimeout(resolve, 1000 / task.rate));
  }
  await new Promise((resolve) => setTimeout(resolve, STAMP_GRACE));
  const sorted = latencies.sort((a, b) => a - b);
  for (const client of clients) client.close();
  process.send!(
    { type: "latency", result: { samples: sorted.length, expected: sends * clients.length, p50: percentile(sorted, 50), p99: percentile(sorted, 99) } },
    () => process.exit(0),
  );
}

if (process.argv.includes("--load")) {
  const waiting: ((command: string) => void)[] = [];
  const queued: string[] = [];
  process.on("message", (message: { type?: string } & Partial<LoadTask>) => {
    if (message.type === "task") {
      lightLoad(message as LoadTask, () => new Promise((resolve) => (queued.length ? resolve(queued.shift()!) : waiting.push(resolve)))).catch((error: Error) =>
        process.send!({ type: "error", error: error.message }, () => process.exit(1)),
      );
    } else if (message.type) {
      const waiter = waiting.shift();
      if (waiter) waiter(message.type);
      else queued.push(message.type);
    }
  });
  setTimeout(() => process.exit(2), 300_000).unref(); // never outlives a run by much
}

// ---------------------------------------------------------------------------------------------
// The chat-load child (`--chat-load`): light raw Socket.IO clients in rooms, each chatting once a
// second until told to stop (or 90 s), acknowledged chats counted.

interface ChatTask {
  port: number;
  clients: number;
  rooms: number;
  intervalMs: number;
}

async function chatLoad(task: ChatTask): Promise<void> {
  const clients: RawSocketIoClient[] = [];
  // 127.1.x.y: apart from load.ts' 127.0.x.y clients.
  for (let i = 0; i < task.clients; i++) {
    const client = await RawSocketIoClient.connect(task.port, `127.1.${1 + Math.floor(i / 250)}.${1 + (i % 250)}`, 20_000);
    await client.request("join", [`chat-${i % task.rooms}`], 20_000);
    clients.push(client);
  }
  let sent = 0;
  let acked = 0;
  let failed = 0;
  const started = performance.now();
  const timers = clients.map((client, i) =>
    setTimeout(
      () =>
        timers.push(
          setInterval(() => {
            sent++;
            client.request("chat", [{ room: `chat-${i % task.rooms}`, text: CHAT_TEXT }], 10_000).then(
              () => acked++,
              () => failed++,
            );
          }, task.intervalMs),
        ),
      Math.random() * task.intervalMs,
    ),
  );
  const stop = (): void => {
    for (const timer of timers) clearTimeout(timer);
    const seconds = (performance.now() - started) / 1000;
    for (const client of clients) client.close();
    process.send!({ type: "result", result: { sent, acked, failed, seconds, chatsPerSecond: acked / seconds } }, () => process.exit(0));
  };
  process.on("message", (message: { type?: string }) => message.type === "stop" && stop());
  setTimeout(stop, 90_000).unref();
  process.send!({ type: "chatting" });
}

if (process.argv.includes("--chat-load")) {
  process.once("message", (task: ChatTask) => {
    chatLoad(task).catch((error: Error) => process.send!({ type: "error", error: error.message }, () => process.exit(1)));
  });
}

// ---------------------------------------------------------------------------------------------
// The bench.

function forkTs(file: string, args: string[] = []): ChildProcess {
  return fork(file, args, { execArgv: ["--import", "tsx"], stdio: ["ignore", "inherit", "inherit", "ipc"] });
}

/**
 * Drives one load child (`--load`) through its phases: resolves with its fan-out and latency
 * results; `hooks` run when the clients are up (before the fan-out), after the fan-out, and before
 * the latency probe (the chat load starts there).
 */
function runLightLoad(
  task: LoadTask,
  hooks: { connected(): void; fanoutDone(): Promise<void>; beforeLatency(): Promise<void> },
): Promise<{ fanout: Record<string, number>; latency: Record<string, number> }> {
  const child = forkTs(fileURLToPath(import.meta.url), ["--load"]);
  return new Promise((resolve, reject) => {
    const fail = (error: Error): void => {
      clearTimeout(timer);
      child.kill("SIGKILL");
      reject(error);
    };
    const timer = setTimeout(() => fail(new Error(`load: no result within ${RUN_TIMEOUT / 1000} s`)), RUN_TIMEOUT);
    let fanout: Record<string, number> = {};
    child.on("message", (message: { type: string; result?: Record<string, number>; error?: string; failed?: number }) => {
      if (message.type === "connected") {
        hooks.connected();
        child.send({ type: "fanout" });
      } else if (message.type === "fanout") {
        fanout = message.result!;
        hooks
          .fanoutDone()
          .then(() => hooks.beforeLatency())
          .then(() => child.send({ type: "latency" }), fail);
      } else if (message.type === "latency") {
        clearTimeout(timer);
        resolve({ fanout, latency: message.result! });
      } else if (message.type === "error") fail(new Error(`load: ${message.error}`));
    });
    child.once("exit", (code) => code !== 0 && fail(new Error(`load: exited with ${code}`)));
    child.send({ type: "task", ...task });
  });
}

/** Starts the chat-load child; resolves with a `stop` that ends it and answers its counts. */
function startChatLoad(port: number): Promise<() => Promise<Record<string, number>>> {
  const child = forkTs(fileURLToPath(import.meta.url), ["--chat-load"]);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => (child.kill("SIGKILL"), reject(new Error("chat load: not chatting within 60 s"))), 60_000);
    let result: ((value: Record<string, number>) => void) | undefined;
    child.on("message", (message: { type: string; result?: Record<string, number>; error?: string }) => {
      if (message.type === "chatting") {
        clearTimeout(timer);
        resolve(
          () =>
            new Promise((done) => {
              result = done;
              child.send({ type: "stop" });
              setTimeout(() => (child.kill("SIGKILL"), done({})), 10_000).unref();
            }),
        );
      } else if (message.type === "result") result?.(message.result!);
      else if (message.type === "error") {
        clearTimeout(timer);
        reject(new Error(`chat load: ${message.error}`));
      }
    });
    child.send({ port, ...CHAT } satisfies ChatTask);
  });
}

interface RedisFigures {
  xlen: number;
  streamBytes: number;
  usedMemory: number;
}

/** redis-server's CPU seconds so far (INFO cpu: microsecond resolution; /proc's 10 ms ticks are too coarse for 100 broadcasts). */
async function redisCpu(redis: Redis): Promise<number> {
  const info = await redis.info("cpu");
  const field = (name: string): number => Number(new RegExp(`^${name}:([\\d.]+)`, "m").exec(info)?.[1] ?? NaN);
  return field("used_cpu_user") + field("used_cpu_sys");
}

async function redisFigures(redis: Redis): Promise<RedisFigures> {
  const [xlen, streamBytes, info] = await Promise.all([
    redis.xlen(LOG_KEY),
    redis.call("MEMORY", "USAGE", LOG_KEY, "SAMPLES", "0") as Promise<number | null>,
    redis.info("memory"),
  ]);
  return { xlen, streamBytes: streamBytes ?? 0, usedMemory: Number(/^used_memory:(\d+)/m.exec(info)?.[1] ?? NaN) };
}

/** RSS of one process (not its children), bytes. */
function ownRss(pid: number): number {
  return Number(readFileSync(`/proc/${pid}/statm`, "utf8").split(" ")[1]) * 4096;
}

interface Run {
  scenario: "fanout" | "latency";
  system: string;
  mode: Variant["mode"];
  recovery: boolean;
  round: number;
  result: Record<string, number>;
  /** Gateway process tree CPU (primary + workers) per delivery, ms (fan-out). */
  gatewayCpuPerDelivery?: number;
  /** redis-server CPU per delivery, ms (fan-out, Redis mode). */
  redisCpuPerDelivery?: number;
  /** The stream after a Redis fan-out run with recovery on. */
  stream?: RedisFigures;
  chat?: Record<string, number>;
  load1: number;
}

/**
 * One run of a variant: a fresh system (Redis flushed) and one load child's clients: the fan-out
 * (server CPU from all connected to the last delivery), then the latency probe while the chat load
 * (its own child) runs.
 */
async function runVariant(variant: Variant, round: number, redis: Redis, redisUrl: string): Promise<Run[]> {
  await redis.flushall();
  const system = await startVariant(variant, await freePort(), redisUrl);
  let stopChat: (() => Promise<Record<string, number>>) | undefined;
  try {
    const pid = system.child.pid!;
    let before = { gateway: 0, redis: 0 };
    let after = { gateway: 0, redis: 0 };
    let stream: RedisFigures | undefined;
    let tree = "";
    /** A worker replaced meanwhile (its CPU time leaves the tree, its clients lose deliveries) voids the run. */
    const checkTree = (): void => {
      if (processTree(pid).join() !== tree) throw new Error(`a worker was replaced during the run (processes ${tree} → ${processTree(pid).join()})`);
    };
    const results = await runLightLoad(
      { port: system.port, ...FANOUT, ...LATENCY },
      {
        connected: () => {
          tree = processTree(pid).join();
          before = { gateway: cpuSeconds(pid), redis: 0 };
          void redisCpu(redis).then((seconds) => (before.redis = seconds));
        },
        fanoutDone: async () => {
          after = { gateway: cpuSeconds(pid), redis: await redisCpu(redis) };
          checkTree();
          await checkLog(variant, redis);
          if (variant.mode === "redis" && variant.recovery) stream = await redisFigures(redis);
        },
        beforeLatency: async () => void (stopChat = await startChatLoad(system.port)),
      },
    );
    const chat = await stopChat!();
    stopChat = undefined;
    checkTree();
    const deliveries = Math.max(1, results.fanout.received);
    const common = { system: variant.spec.name, mode: variant.mode, recovery: variant.recovery, round, load1: loadavg()[0] };
    const fanout: Run = {
      ...common,
      scenario: "fanout",
      result: results.fanout,
      gatewayCpuPerDelivery: ((after.gateway - before.gateway) / deliveries) * 1000,
      ...(variant.mode === "redis" ? { redisCpuPerDelivery: ((after.redis - before.redis) / deliveries) * 1000 } : {}),
      ...(stream ? { stream } : {}),
    };
    return [fanout, { ...common, scenario: "latency", result: results.latency, chat }];
  } finally {
    await stopChat?.();
    await system.stop();
  }
}

interface MemoryStep {
  entries: number;
  redis?: RedisFigures;
  primaryRss?: number;
  workersRss?: number;
  /** V8 heap in use after a full GC (through the inspector): the primary's, then each worker's. */
  heaps?: number[];
}

/**
 * The V8 heap in use, after a full garbage collection, of the process whose inspector listens on
 * `port` (HeapProfiler.collectGarbage + Runtime.getHeapUsage over the DevTools protocol).
 */
async function heapUsed(port: number): Promise<number> {
  const [target] = (await (await fetch(`http://127.0.0.1:${port}/json/list`, { signal: AbortSignal.timeout(5000) })).json()) as {
    webSocketDebuggerUrl: string;
  }[];
  const ws = new WebSocket(target.webSocketDebuggerUrl);
  const replies = new Map<number, (result: Record<string, number>) => void>();
  ws.on("message", (raw: Buffer) => {
    const message = JSON.parse(raw.toString()) as { id?: number; result?: Record<string, number> };
    if (message.id !== undefined) replies.get(message.id)?.(message.result ?? {});
  });
  await new Promise((resolve, reject) => (ws.once("open", resolve), ws.once("error", reject)));
  let nextId = 1;
  const call = (method: string): Promise<Record<string, number>> =>
    new Promise((resolve, reject) => {
      const id = nextId++;
      const timer = setTimeout(() => reject(new Error(`inspector: no answer to ${method}`)), 10_000);
      replies.set(id, (result) => (clearTimeout(timer), resolve(result)));
      ws.send(JSON.stringify({ id, method }));
    });
  try {
    await call("HeapProfiler.collectGarbage");
    return (await call("Runtime.getHeapUsage")).usedSize;
  } finally {
    ws.close();
  }
}

/**
 * Appends chat-sized messages through the app's `chat` (to a room whose only member is the
 * receiver, so each append is one entry and one delivery) and measures at each step.
 */
async function memoryRun(variant: Variant, redis: Redis, redisUrl: string): Promise<MemoryStep[]> {
  await redis.flushall();
  // Single machine: the primary under the inspector (its workers get the next ports from cluster), to read its heap after a GC.
  const inspectPort = variant.mode === "single machine" ? await freePort() : undefined;
  const spec: SystemSpec =
    inspectPort === undefined
      ? variant.spec
      : { ...variant.spec, command: (port, url) => [`--inspect=127.0.0.1:${inspectPort}`, ...variant.spec.command(port, url)] };
  const system = await startVariant(variant, await freePort(), redisUrl, spec);
  const sockets: Socket[] = [];
  try {
    const connect = (n: number): Promise<Socket> => {
      const socket = ioClient(system.url, { transports: ["websocket"], forceNew: true, reconnection: false, localAddress: `127.2.1.${1 + n}` } as Parameters<
        typeof ioClient
      >[1]);
      sockets.push(socket);
      return new Promise((resolve, reject) => {
        socket.once("connect_error", reject);
        socket.once("hello", () => resolve(socket));
      });
    };
    const receiver = await connect(0);
    await receiver.timeout(10_000).emitWithAck("join", "mem");
    const senders = await Promise.all([1, 2, 3, 4].map(connect));
    let received = 0;
    receiver.on("chat", () => received++);
    const pid = system.child.pid!;
    const measure = async (entries: number): Promise<MemoryStep> => {
      await new Promise((resolve) => setTimeout(resolve, 1500)); // let the processes settle
      const step: MemoryStep = { entries };
      if (variant.mode === "redis") step.redis = await redisFigures(redis);
      else {
        step.heaps = await Promise.all([0, 1, 2].map((offset) => heapUsed(inspectPort! + offset).catch(() => NaN)));
        step.primaryRss = ownRss(pid);
        step.workersRss = rssBytes(pid) - step.primaryRss;
      }
      return step;
    };
    const steps = [await measure(0)];
    let sent = 0;
    const deadline = performance.now() + 60_000;
    for (const target of MEMORY_STEPS) {
      while (sent < target && performance.now() < deadline) {
        // At most 1,000 in flight: the receiver's count says what is through the log.
        const batch = Math.min(target - sent, 1000);
        for (let i = 0; i < batch; i++) senders[(sent + i) % senders.length].emit("chat", { room: "mem", text: CHAT_TEXT });
        sent += batch;
        while (received < sent && performance.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
      }
      if (received < target) throw new Error(`memory run: ${received} of ${target} chats came back within 60 s`);
      steps.push(await measure(target));
    }
    await checkLog(variant, redis);
    return steps;
  } finally {
    for (const socket of sockets) socket.disconnect();
    await system.stop();
  }
}

// ---------------------------------------------------------------------------------------------
// The report.

const spread = (values: number[], digits = 0): string => (values.length ? `${fmt(Math.min(...values), digits)}–${fmt(Math.max(...values), digits)}` : "–");

/** On/off of a figure: the ratio of medians, and the per-round ratios' spread (runs of one round are adjacent). */
function ratios(off: Run[], on: Run[], figure: (run: Run) => number): { ofMedians: number; perRound: number[] } {
  const perRound: number[] = [];
  for (const runOn of on) {
    const runOff = off.find((run) => run.round === runOn.round);
    if (runOff) perRound.push(figure(runOn) / figure(runOff));
  }
  return { ofMedians: median(on.map(figure)) / median(off.map(figure)), perRound };
}

function report(
  runs: Run[],
  memory: { redis?: MemoryStep[]; single?: MemoryStep[]; error?: string },
  failures: string[],
  context: Record<string, string>,
): string {
  const lines: string[] = [
    "# Connection-state recovery: what it costs",
    "",
    `${context.date} · ${context.cpu}, ${cpus().length} cores, ${Math.round(totalmem() / 2 ** 30)} GiB · Node ${process.version} · Redis ${context.redisVersion} · ${quick ? "quick run (1 round, small sizes)" : `${ROUNDS} rounds, systems alternated`} · ${context.minutes} min`,
    "",
    `Load average (1 min) ${context.loadBefore} at the start, ${context.loadAfter} at the end (2 cores: above 2 means other work`,
    "ran on the machine meanwhile and every figure is skewed by it; the per-run load is in the raw table).",
    `Built from ${context.commit}${context.dirty ? ` with uncommitted changes of other work in the tree (${context.dirty})` : ""}.`,
    "",
    `Produced by \`npm run bench:recovery${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(" ")}` : ""}\` (bench/recovery.ts). Systems: sio-gateway, 2 workers, with`,
    "`--redis` (a private redis-server) and in single-machine mode, each running the lean bench app with recovery",
    "off (bench/app.mjs) and on (bench/app-recovery.mjs: the same app, `connectionStateRecovery: { maxDisconnectionDuration: 120000 }`).",
    "Each run starts its system fresh (Redis flushed); each round runs the two on/off pairs, off first in odd rounds and on first",
    "in even ones (A B B A). Load comes from forked",
    "processes with distinct 127.x source addresses. The load generator, Redis and the gateway share the 2 cores:",
    "in fan-out the one load process receiving every delivery is the bottleneck, which squeezes throughput ratios",
    "toward 1, so the server CPU per delivery is given beside it.",
    "",
  ];
  const modes: Variant["mode"][] = ["redis", "single machine"];

  const fanout = runs.filter((run) => run.scenario === "fanout");
  lines.push(
    `## Fan-out: ${fmt(FANOUT.clients)} WebSocket clients, ${FANOUT.messages} broadcasts to all (\`flood\`: \`io.emit\` in a loop)`,
    "",
    "Deliveries/s from the `flood` request to the last delivery. CPU: from all clients connected to the last delivery,",
    "the gateway's process tree (primary + workers) and, in Redis mode, redis-server, per delivery.",
    "",
    "| mode | recovery | deliveries/s, median | spread | on/off (per-round spread) | gateway CPU µs / delivery | redis-server CPU µs / broadcast | on/off server CPU per delivery (gateway + Redis) | lost |",
    "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
  );
  const verdicts: string[] = [];
  for (const mode of modes) {
    const off = fanout.filter((run) => run.mode === mode && !run.recovery);
    const on = fanout.filter((run) => run.mode === mode && run.recovery);
    const rate = ratios(off, on, (run) => run.result.perSecond);
    const cpu = ratios(off, on, (run) => (run.gatewayCpuPerDelivery ?? 0) + (run.redisCpuPerDelivery ?? 0));
    for (const [recovery, group] of [
      ["off", off],
      ["on", on],
    ] as const) {
      if (group.length === 0) continue;
      const rates = group.map((run) => run.result.perSecond);
      lines.push(
        `| ${mode} | ${recovery} | ${fmt(median(rates))} | ${spread(rates)} | ${recovery === "on" ? `${fmt(rate.ofMedians, 2)}x (${spread(rate.perRound, 2)})` : ""} | ${fmt(median(group.map((run) => run.gatewayCpuPerDelivery! * 1000)), 1)} | ${mode === "redis" ? fmt(median(group.map((run) => run.redisCpuPerDelivery! * run.result.clients * 1000)), 0) : "–"} | ${recovery === "on" ? `${fmt(cpu.ofMedians, 2)}x (${spread(cpu.perRound, 2)})` : ""} | ${fmt(median(group.map((run) => run.result.lost)))} |`,
      );
    }
    if (off.length && on.length)
      verdicts.push(
        `- ${mode}: recovery on gives ${fmt(rate.ofMedians * 100)} % of the fan-out throughput of recovery off (${rate.ofMedians >= 0.8 ? "meets" : "misses"} the target of ≥ 80 %), at ${fmt(cpu.ofMedians, 2)}x the server CPU per delivery (${cpu.ofMedians <= 1.25 ? "within" : "beyond"} the 1.25x that a 20 % throughput cost means on a CPU-bound server).`,
      );
  }
  lines.push("", "**Target (recovery costs at most 20 % of fan-out throughput):**", "", ...verdicts, "");

  const latency = runs.filter((run) => run.scenario === "latency");
  lines.push(
    `## Latency: \`stamp\` broadcasts, ${LATENCY.rate}/s to the same ${fmt(FANOUT.clients)} clients for ${LATENCY.duration / 1000} s, under a steady chat`,
    "",
    `From the server's clock at the emit to receipt. Meanwhile ${CHAT.clients} more clients in ${CHAT.rooms} rooms each chat once a second`,
    `(the app's \`chat\`, ${CHAT_TEXT.length} characters, acknowledged), from their own forked process.`,
    "",
    "| mode | recovery | p99 ms, median | spread | p50 ms, median | on/off p99 (per-round spread) | chats/s acknowledged | stamp deliveries missing |",
    "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |",
  );
  for (const mode of modes) {
    const off = latency.filter((run) => run.mode === mode && !run.recovery);
    const on = latency.filter((run) => run.mode === mode && run.recovery);
    const p99 = ratios(off, on, (run) => run.result.p99);
    for (const [recovery, group] of [
      ["off", off],
      ["on", on],
    ] as const) {
      if (group.length === 0) continue;
      const values = group.map((run) => run.result.p99);
      lines.push(
        `| ${mode} | ${recovery} | ${fmt(median(values), 1)} | ${spread(values, 1)} | ${fmt(median(group.map((run) => run.result.p50)), 1)} | ${recovery === "on" ? `${fmt(p99.ofMedians, 2)}x (${spread(p99.perRound, 2)})` : ""} | ${fmt(median(group.map((run) => run.chat?.chatsPerSecond ?? NaN)), 0)} | ${fmt(median(group.map((run) => run.result.expected - run.result.samples)))} |`,
      );
    }
  }
  lines.push("");

  lines.push("## Memory of the recovery log", "");
  const streams = fanout.filter((run) => run.stream && run.stream.xlen > 0).map((run) => run.stream!);
  if (streams.length) {
    const perEntry = streams.map((stream) => stream.streamBytes / stream.xlen);
    lines.push(
      `After each Redis fan-out run with recovery on, the stream held ${spread(streams.map((s) => s.xlen))} entries: ${fmt(FANOUT.messages)} \`tick\` broadcasts (a number each), one \`hello\` per client`,
      "(with recovery on, Socket.IO sends even `socket.emit` through the adapter's `broadcast`, so every emit to one socket is a log",
      "entry too, appended and read back by every worker) and the adapters' heartbeats;",
      `\`MEMORY USAGE ${LOG_KEY} SAMPLES 0\` / XLEN = ${fmt(median(perEntry), 0)} bytes per entry (spread ${spread(perEntry)}), ${fmt((median(perEntry) * 1000) / 1024, 0)} KB per 1,000.`,
      "",
    );
  }
  if (memory.redis) {
    const last = memory.redis[memory.redis.length - 1].redis!;
    const first = memory.redis[1].redis!;
    const base = memory.redis[0].redis!;
    const slope = (last.usedMemory - first.usedMemory) / (last.xlen - first.xlen);
    lines.push(
      `Chat-sized entries (the app's \`chat\` broadcast \`{ room, text, from, worker, at }\`, text ${CHAT_TEXT.length} characters), Redis mode, one fresh run:`,
      "",
      "| entries appended | XLEN | MEMORY USAGE of the stream | bytes / entry | used_memory over the start |",
      "| ---: | ---: | ---: | ---: | ---: |",
      ...memory.redis.map(
        (step) =>
          `| ${fmt(step.entries)} | ${fmt(step.redis!.xlen)} | ${fmt(step.redis!.streamBytes)} | ${step.redis!.xlen ? fmt(step.redis!.streamBytes / step.redis!.xlen, 0) : "–"} | ${fmt(step.redis!.usedMemory - base.usedMemory)} |`,
      ),
      "",
      `**Redis memory per 1,000 buffered chat messages: ${fmt(((last.streamBytes / last.xlen) * 1000) / 1024, 0)} KB** (MEMORY USAGE / XLEN × 1,000); the slope of used_memory between the last two steps: ${fmt((slope * 1000) / 1024, 0)} KB per 1,000.`,
      `The stream is capped at 100,000 entries (MAX_LOG_ENTRIES) and trimmed to \`maxDisconnectionDuration\` + 30 s of age, so at this size it holds at most ~${fmt(((last.streamBytes / last.xlen) * 100_000) / 2 ** 20, 0)} MB.`,
      "",
    );
  }
  if (memory.single) {
    const [base, first, last] = [memory.single[0], memory.single[1], memory.single[memory.single.length - 1]];
    const perThousand = (from: number, to: number, entries: number): string => fmt((((to - from) / entries) * 1000) / 1024, 0);
    const mb = (bytes: number): string => `${fmt(bytes / 2 ** 20, 1)} MB`;
    const heap = (step: MemoryStep, i: number): number => step.heaps?.[i] ?? NaN;
    lines.push(
      "Single-machine mode (the log is kept in the primary's memory), same chat messages, one fresh run. Heaps are read",
      "through the inspector (`--inspect` on the primary; cluster gives the workers the next ports) after a forced full GC.",
      "",
      "| entries appended | primary heap over the start | primary RSS over the start | worker 0 / worker 1 heap over the start | workers' RSS over the start |",
      "| ---: | ---: | ---: | ---: | ---: |",
      ...memory.single.map(
        (step) =>
          `| ${fmt(step.entries)} | ${mb(heap(step, 0) - heap(base, 0))} | ${mb(step.primaryRss! - base.primaryRss!)} | ${mb(heap(step, 1) - heap(base, 1))} / ${mb(heap(step, 2) - heap(base, 2))} | ${mb(step.workersRss! - base.workersRss!)} |`,
      ),
      "",
      `**Primary memory per 1,000 buffered chat messages: ${perThousand(heap(first, 0), heap(last, 0), last.entries - first.entries)} KB of heap after a full GC** (slope between the last two steps); RSS slope ${perThousand(first.primaryRss!, last.primaryRss!, last.entries - first.entries)} KB per 1,000 (RSS also holds garbage not yet collected and heap not given back).`,
      `Each worker also keeps its last 10,000 delivered broadcasts (recovery-hub.ts) for restores: from 0 to ${fmt(first.entries)} entries its heap grew ${perThousand(heap(base, 1), heap(first, 1), first.entries)} KB per 1,000 (worker 0).`,
      "",
    );
  }
  if (memory.error) lines.push(`Memory phase failed: ${memory.error}`, "");

  lines.push(
    "## Raw runs",
    "",
    "| round | scenario | system | figure | load avg after |",
    "| ---: | --- | --- | --- | ---: |",
    ...runs.map(
      (run) =>
        `| ${run.round} | ${run.scenario} | ${run.system} | ${
          run.scenario === "fanout"
            ? `${fmt(run.result.perSecond)} deliveries/s, ${fmt(run.result.received)} of ${fmt(run.result.expected)} in ${fmt(run.result.seconds, 2)} s, gateway ${fmt(run.gatewayCpuPerDelivery! * 1000, 1)} µs/delivery${run.redisCpuPerDelivery !== undefined ? `, redis ${fmt(run.redisCpuPerDelivery * run.result.clients * 1000, 0)} µs/broadcast` : ""}${run.result.failed ? `, ${run.result.failed} clients failed` : ""}`
            : `p50 ${fmt(run.result.p50, 1)} / p99 ${fmt(run.result.p99, 1)} ms, ${fmt(run.result.samples)} of ${fmt(run.result.expected)} samples, ${fmt(run.chat?.acked ?? NaN)} chats acked (${fmt(run.chat?.failed ?? NaN)} failed)`
        } | ${fmt(run.load1, 1)} |`,
    ),
    "",
  );
  if (failures.length) lines.push("**Runs that failed (left out of the tables):**", "", ...failures.map((failure) => `- ${failure}`), "");
  if (context.skipped !== "0") lines.push(`**Time budget reached: ${context.skipped} on/off pair(s) of runs were not run.**`, "");
  return lines.join("\n");
}

function git(args: string[]): string {
  try {
    return execFileSync("git", args, { cwd: `${here}..`, encoding: "utf8" }).trimEnd();
  } catch {
    return "";
  }
}

async function main(): Promise<void> {
  const started = Date.now();
  const loadBefore = fmt(loadavg()[0], 1);
  const redisServer = await RedisServer.start();
  const redis = new Redis(redisServer.url, { lazyConnect: false });
  const runs: Run[] = [];
  const memory: { redis?: MemoryStep[]; single?: MemoryStep[]; error?: string } = {};
  let skipped = 0;
  const failures: string[] = [];
  let redisVersion = "?";
  try {
    const serverInfo = await redis.info("server");
    redisVersion = /^redis_version:(\S+)/m.exec(serverInfo)?.[1] ?? "?";
    const systems = variants();
    const elapsed = (): number => Date.now() - started;
    for (let round = 1; round <= ROUNDS; round++) {
      for (const mode of ["redis", "single machine"] as const) {
        // One on/off pair after the other; odd rounds run off first, even rounds on first (A B B A).
        const pair = systems.filter((variant) => variant.mode === mode).sort((a, b) => (Number(a.recovery) - Number(b.recovery)) * (round % 2 ? 1 : -1));
        if (elapsed() > (budget?.pairs ?? PAIRS_BUDGET_MS)) {
          skipped++;
          continue;
        }
        for (const variant of pair) {
          const began = Date.now();
          let fanout: Run, latency: Run;
          try {
            [fanout, latency] = await runVariant(variant, round, redis, redisServer.url);
          } catch (error) {
            // A run that fails or times out is reported, and the bench goes on with the next.
            failures.push(`round ${round}, ${variant.spec.name}: ${(error as Error).message}`);
            process.stderr.write(`round ${round} ${variant.spec.name} failed: ${(error as Error).message}\n`);
            continue;
          }
          runs.push(fanout, latency);
          process.stderr.write(
            `round ${round} ${variant.spec.name}: fan-out ${fmt(fanout.result.perSecond)} deliveries/s, ${fmt(fanout.gatewayCpuPerDelivery! * 1000, 1)} µs/delivery, lost ${fanout.result.lost}${fanout.stream ? `, stream ${fanout.stream.xlen} entries ${fanout.stream.streamBytes} B` : ""}; latency p50 ${fmt(latency.result.p50, 1)} p99 ${fmt(latency.result.p99, 1)} ms, chats ${fmt(latency.chat?.chatsPerSecond ?? NaN)}/s (${fmt((Date.now() - began) / 1000, 1)} s, at ${fmt(elapsed() / 1000)} s)\n`,
          );
        }
      }
    }
    for (const mode of ["redis", "single machine"] as const) {
      if (elapsed() > (budget?.memory ?? MEMORY_BUDGET_MS)) {
        memory.error = `${memory.error ? `${memory.error}; ` : ""}time budget reached before the ${mode} memory run`;
        continue;
      }
      try {
        const steps = await memoryRun(
          systems.find((variant) => variant.mode === mode && variant.recovery)!,
          redis,
          redisServer.url,
        );
        if (mode === "redis") memory.redis = steps;
        else memory.single = steps;
        process.stderr.write(`memory ${mode}: ${JSON.stringify(steps)} (at ${fmt(elapsed() / 1000)} s)\n`);
      } catch (error) {
        memory.error = `${memory.error ? `${memory.error}; ` : ""}${mode}: ${(error as Error).message}`;
      }
    }
  } finally {
    redis.disconnect();
    await redisServer.stop();
  }
  const dirty = git(["status", "--porcelain", "--untracked-files=no"])
    .split("\n")
    .filter(Boolean)
    .map((line) => line.slice(3))
    .filter((path) => !["package.json", "bench/recovery.ts", "bench/app-recovery.mjs", "bench/README.md"].includes(path))
    .join(", ");
  const text = report(runs, memory, failures, {
    date: new Date()
      .toISOString()
      .replace(/\.\d+Z$/, " UTC")
      .replace("T", " "),
    cpu: cpus()[0]?.model.trim() ?? "unknown CPU",
    redisVersion,
    minutes: fmt((Date.now() - started) / 60_000, 1),
    loadBefore,
    loadAfter: fmt(loadavg()[0], 1),
    commit: git(["rev-parse", "--short", "HEAD"]).trim() || "?",
    dirty,
    skipped: String(skipped),
  });
  const out = quick ? "RESULTS.recovery.quick.md" : "RESULTS.recovery.md";
  writeFileSync(`${here}${out}`, text);
  process.stdout.write(`${text}\nwritten to bench/${out}\n`);
}

if (!process.argv.includes("--chat-load") && !process.argv.includes("--load")) {
  main().catch((error: Error) => {
    process.stderr.write(`bench:recovery failed: ${error.stack ?? error.message}\n`);
    process.exit(1);
  });
}
