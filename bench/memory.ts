/**
 * Memory per idle WebSocket connection (issue 21, item 1), one worker at a time.
 *
 * For each system, started fresh: the gateway with 1 worker (Redis mode on a private
 * redis-server, with the default `--rate-limit` and with 0; single-machine mode), and the plain
 * one-process Socket.IO server as the reference (with BENCH_BASELINE_ROOT, that older build of
 * the gateway too). Each runs under `--inspect`. At 0 and at N idle clients the bench reads the
 * RSS of the process serving the sockets (the worker) after the clients sat idle a few seconds
 * (no forced GC: what an operator sees), then forces a full GC (HeapProfiler.collectGarbage) and
 * reads the V8 heap (used, total), the worker's and the whole tree's RSS (the gateway's primary
 * is collected too). Then a heap snapshot at SNAPSHOT_N sockets and one after every client left:
 * per constructor (object type), and per first retainer, the count and self size per socket.
 * N light clients (Engine.IO/Socket.IO over `ws` by hand, pings answered) connect from distinct
 * 127.0.x.y addresses.
 *
 *   npm run bench:memory                      # N = 10,000, every system, snapshots (~4-5 min)
 *   npm run bench:memory -- --quick           # N = 2,000
 *   --n=<N> --systems=<comma words> --no-snapshot --snapshot-n=<sockets> --retainers --idle=<s>
 *   --rounds=<k>: the systems in turn, k times (A B A B), medians reported
 *   --variants=<see VARIANTS>, --env=K=V,K=V, --node-options="<flags>": environment and node flags for the systems
 *
 * Writes bench/memory.quick.md and bench/results.memory.partial.json (both ignored by git); the
 * curated findings live in bench/RESULTS.memory.md.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { loadavg } from "node:os";
import { fileURLToPath } from "node:url";
import { WebSocket } from "ws";
import { freePort } from "../test/helpers/ports.js";
import { RedisServer } from "../test/helpers/redis-server.js";
import { gatewayStartArgs, processTree } from "./systems.js";
import { median } from "./stats.js";

const root = fileURLToPath(new URL("..", import.meta.url));
const argOf = (name: string): string | undefined => process.argv.find((arg) => arg.startsWith(`--${name}=`))?.slice(name.length + 3);
const quick = process.argv.includes("--quick");
const N = Number(argOf("n") ?? (quick ? 2000 : 10_000));
const snapshots = !process.argv.includes("--no-snapshot");
/** Sockets open at the heap snapshot (`--snapshot-n`; the per-socket breakdown is divided by it). */
const SNAPSHOT_N = Number(argOf("snapshot-n") ?? 3000);
const rounds = Number(argOf("rounds") ?? 1);
/** Seconds the clients stay idle before the "no GC" RSS reading (V8's memory reducer may run meanwhile, as in production). */
const idleSeconds = Number(argOf("idle") ?? 5);
const nodeOptions = argOf("node-options") ?? "";
/** `--env=NAME=value[,NAME=value]`: extra environment for the systems (e.g. MALLOC_ARENA_MAX=2). */
const extraEnv = Object.fromEntries(
  (argOf("env") ?? "")
    .split(",")
    .filter(Boolean)
    .map((pair) => [pair.slice(0, pair.indexOf("=")), pair.slice(pair.indexOf("=") + 1)]),
);
const gatewayRoot = process.env.BENCH_BASELINE_ROOT;

interface MemorySystem {
  name: string;
  /** The served process is the first child of the started one (the gateway's worker), or the process itself. */
  servedByChild: boolean;
  command(port: number, inspectPort: number, redisUrl: string): string[];
  env?: Record<string, string>;
}

const gatewayCommand =
  (mode: "redis" | "single", rateLimit: string | undefined, distRoot = root) =>
  (port: number, inspectPort: number, redisUrl: string): string[] => [
    `--inspect=127.0.0.1:${inspectPort}`,
    ...gatewayStartArgs({
      build: distRoot,
      port,
      workers: 1,
      redisUrl: mode === "redis" ? redisUrl : undefined,
      app: `${root}/bench/app.mjs`,
      flags: rateLimit === undefined ? [] : ["--rate-limit", rateLimit],
    }),
  ];

const ALL: MemorySystem[] = [
  { name: "gateway redis", servedByChild: true, command: gatewayCommand("redis", undefined) },
  { name: "gateway redis rate-limit 0", servedByChild: true, command: gatewayCommand("redis", "0") },
  { name: "gateway single", servedByChild: true, command: gatewayCommand("single", undefined) },
  {
    name: "socket.io single process",
    servedByChild: false,
    command: (_port, inspectPort) => [`--inspect=127.0.0.1:${inspectPort}`, "--import", "tsx", `${root}/bench/servers/single-process.ts`],
  },
];
if (gatewayRoot) ALL.push({ name: "baseline gateway redis", servedByChild: true, command: gatewayCommand("redis", undefined, gatewayRoot) });

const wanted = argOf("systems")?.split(",");
/** A word picks the systems whose name contains it, or only the one it names exactly. */
const PICKED = wanted
  ? ALL.filter((system) => wanted.some((word) => system.name === word || (!ALL.some((s) => s.name === word) && system.name.includes(word))))
  : ALL;

/**
 * `--variants=name:KEY=value;KEY=value|name2:...`: every picked system also runs with each
 * variant's environment (e.g. `arena2:MALLOC_ARENA_MAX=2|small:ARGV=--optimize-for-size`; ARGV: node flags on the command line),
 * in turn with the plain one, round after round (A B A B).
 */
const VARIANTS: { name: string; env: Record<string, string> }[] = (argOf("variants") ?? "")
  .split("|")
  .filter(Boolean)
  .map((spec) => {
    const [name, pairs = ""] = spec.split(/:(.*)/s);
    const env = Object.fromEntries(
      pairs
        .split(";")
        .filter(Boolean)
        .map((pair) => [pair.slice(0, pair.indexOf("=")), pair.slice(pair.indexOf("=") + 1)]),
    );
    return { name, env };
  });
const SYSTEMS: MemorySystem[] = PICKED.flatMap((system) => [
  system,
  ...VARIANTS.map((variant) => ({ ...system, name: `${system.name} [${variant.name}]`, env: { ...system.env, ...variant.env } })),
]);

// ---------------------------------------------------------------------------------------------
// The inspector: forced GC, heap usage, heap snapshot (parsed by hand: at 10,000 sockets it is
// too large for one JSON.parse).

class Inspector {
  private nextId = 1;
  private readonly replies = new Map<number, { resolve(result: Record<string, unknown>): void; reject(error: Error): void }>();
  private chunks: Buffer[] = [];

  private constructor(private readonly ws: WebSocket) {
    ws.once("close", () => {
      for (const reply of this.replies.values()) reply.reject(new Error("inspector: the process closed its inspector (exited?)"));
      this.replies.clear();
    });
    ws.on("message", (raw: Buffer) => {
      // Snapshot chunks dominate: find them without parsing the envelope twice.
      if (raw.subarray(0, 60).includes("HeapProfiler.addHeapSnapshotChunk")) {
        const message = JSON.parse(raw.toString()) as { params: { chunk: string } };
        this.chunks.push(Buffer.from(message.params.chunk));
        return;
      }
      const message = JSON.parse(raw.toString()) as { id?: number; result?: Record<string, unknown>; error?: { message: string } };
      if (message.id === undefined) return;
      const reply = this.replies.get(message.id);
      this.replies.delete(message.id);
      if (message.error) reply?.reject(new Error(message.error.message));
      else reply?.resolve(message.result ?? {});
    });
  }

  static async open(port: number): Promise<Inspector> {
    const deadline = Date.now() + 20_000;
    for (;;) {
      try {
        const [target] = (await (await fetch(`http://127.0.0.1:${port}/json/list`, { signal: AbortSignal.timeout(3000) })).json()) as {
          webSocketDebuggerUrl: string;
        }[];
        const ws = new WebSocket(target.webSocketDebuggerUrl, { maxPayload: 1024 * 1024 * 1024 });
        await new Promise((resolve, reject) => (ws.once("open", resolve), ws.once("error", reject)));
        return new Inspector(ws);
      } catch (error) {
        if (Date.now() > deadline) throw error;
        await sleep(300);
      }
    }
  }

  call(method: string, params: Record<string, unknown> = {}, timeout = 120_000): Promise<Record<string, unknown>> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`inspector: no answer to ${method}`)), timeout);
      this.replies.set(id, {
        resolve: (result) => (clearTimeout(timer), resolve(result)),
        reject: (error) => (clearTimeout(timer), reject(error)),
      });
      this.ws.send(JSON.stringify({ id, method, params }));
    });
  }

  async gcAndHeap(): Promise<{ used: number; total: number }> {
    await this.call("HeapProfiler.collectGarbage");
    await this.call("HeapProfiler.collectGarbage");
    const usage = (await this.call("Runtime.getHeapUsage")) as { usedSize: number; totalSize: number };
    return { used: usage.usedSize, total: usage.totalSize };
  }

  async snapshot(): Promise<SnapshotSummary> {
    this.chunks = [];
    const started = performance.now();
    await this.call("HeapProfiler.takeHeapSnapshot", { reportProgress: false }, 300_000);
    const buffer = Buffer.concat(this.chunks);
    process.stderr.write(`heap snapshot: ${(buffer.length / 1e6).toFixed(0)} MB in ${((performance.now() - started) / 1000).toFixed(1)} s\n`);
    this.chunks = [];
    return aggregateSnapshot(buffer);
  }

  close(): void {
    this.ws.close();
  }
}

interface Aggregate {
  count: number;
  bytes: number;
}

/** Reads a JSON array of non-negative integers starting at `from` (the `[`), without building a string. */
function readIntArray(buffer: Buffer, from: number): number[] {
  const out: number[] = [];
  let value = 0;
  let inNumber = false;
  for (let i = from + 1; i < buffer.length; i++) {
    const c = buffer[i];
    if (c >= 48 && c <= 57) {
      value = value * 10 + (c - 48);
      inNumber = true;
    } else {
      if (inNumber) out.push(value);
      value = 0;
      inNumber = false;
      if (c === 93) return out; // ]
    }
  }
  throw new Error("heap snapshot: unterminated array");
}

/** What a snapshot holds: self size and count per kind of node, and per kind and first retainer. */
interface SnapshotSummary {
  byKind: Map<string, Aggregate>;
  byRetainer: Map<string, Aggregate>;
}

function add(map: Map<string, Aggregate>, key: string, bytes: number): void {
  const entry = map.get(key);
  if (entry) {
    entry.count++;
    entry.bytes += bytes;
  } else map.set(key, { count: 1, bytes });
}

/**
 * Objects by constructor name, closures by function name, strings together; and the same kinds
 * by their first (non-weak) retainer: `kind ← retainer kind.edge`, which says who holds them.
 */
function aggregateSnapshot(buffer: Buffer): SnapshotSummary {
  const metaEnd = buffer.indexOf('"nodes":');
  const head = buffer.subarray(0, metaEnd).toString().replace(/,\s*$/, "") + "}";
  const meta = (JSON.parse(head) as { snapshot: { meta: { node_fields: string[]; node_types: [string[]]; edge_fields: string[]; edge_types: [string[]] } } })
    .snapshot.meta;
  const nodesAt = buffer.indexOf("[", metaEnd);
  const nodes = readIntArray(buffer, nodesAt);
  const edgesAt = buffer.indexOf("[", buffer.indexOf('"edges":', nodesAt));
  const edges = readIntArray(buffer, edgesAt);
  const stringsAt = buffer.lastIndexOf('"strings":');
  const stringsEnd = buffer.lastIndexOf("]");
  const strings = JSON.parse(buffer.subarray(buffer.indexOf("[", stringsAt), stringsEnd + 1).toString()) as string[];
  const fields = meta.node_fields.length;
  const typeAt = meta.node_fields.indexOf("type");
  const nameAt = meta.node_fields.indexOf("name");
  const sizeAt = meta.node_fields.indexOf("self_size");
  const edgeCountAt = meta.node_fields.indexOf("edge_count");
  const types = meta.node_types[0];
  const edgeFields = meta.edge_fields.length;
  const edgeTypes = meta.edge_types[0];
  const count = nodes.length / fields;
  const kinds: string[] = new Array<string>(count);
  for (let n = 0; n < count; n++) {
    const i = n * fields;
    const type = types[nodes[i + typeAt]];
    const name = strings[nodes[i + nameAt]];
    let key: string;
    if (type === "object" || type === "synthetic") key = name.slice(0, 60);
    else if (type === "closure") key = `(closure) ${name.slice(0, 40)}`;
    else if (type.includes("string")) key = "(strings)";
    else if (type === "array" || type === "hidden" || type === "native") key = `(${type}) ${name.slice(0, 60)}`;
    else key = `(${type})`;
    kinds[n] = key;
  }
  const retainer = new Int32Array(count).fill(-1);
  const retainerEdge: string[] = new Array<string>(count);
  let e = 0;
  for (let n = 0; n < count; n++) {
    const edgeCount = nodes[n * fields + edgeCountAt];
    for (let k = 0; k < edgeCount; k++, e += edgeFields) {
      const edgeType = edgeTypes[edges[e]];
      if (edgeType === "weak" || edgeType === "shortcut") continue;
      const to = edges[e + 2] / fields;
      if (retainer[to] !== -1) continue;
      retainer[to] = n;
      retainerEdge[to] = edgeType === "element" || edgeType === "hidden" ? "[]" : strings[edges[e + 1]].slice(0, 30);
    }
  }
  const byKind = new Map<string, Aggregate>();
  const byRetainer = new Map<string, Aggregate>();
  for (let n = 0; n < count; n++) {
    const bytes = nodes[n * fields + sizeAt];
    add(byKind, kinds[n], bytes);
    const parent = retainer[n];
    const grand = parent === -1 ? -1 : retainer[parent];
    const via = grand === -1 ? "" : ` ← ${kinds[grand]}.${retainerEdge[parent]}`;
    add(byRetainer, parent === -1 ? `${kinds[n]} ← (none)` : `${kinds[n]} ← ${kinds[parent]}.${retainerEdge[n]}${via}`, bytes);
  }
  return { byKind, byRetainer };
}

// ---------------------------------------------------------------------------------------------
// The light client: Engine.IO v4 over a WebSocket, the namespace "/" CONNECT, pings answered.

function connectClient(port: number, localAddress: string, timeout = 30_000): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/socket.io/?EIO=4&transport=websocket`, { localAddress, perMessageDeflate: false });
    const timer = setTimeout(() => (ws.terminate(), reject(new Error(`no Socket.IO connection within ${timeout} ms`))), timeout);
    ws.once("error", (error) => (clearTimeout(timer), reject(error)));
    ws.on("message", (data: Buffer) => {
      const first = data[0];
      if (first === 0x32 && data.length === 1) ws.send("3");
      else if (first === 0x30) ws.send("40");
      else if (first === 0x34 && data[1] === 0x30) {
        clearTimeout(timer);
        resolve(ws);
      } else if (first === 0x34 && data[1] === 0x34) {
        clearTimeout(timer);
        reject(new Error(`connect_error: ${data.toString()}`));
      }
    });
  });
}

/** 127.0.x.y, one per client (x 1..250, y 1..250). */
const clientAddress = (n: number): string => `127.0.${1 + (Math.floor(n / 250) % 250)}.${1 + (n % 250)}`;

async function connectAll(port: number, count: number): Promise<{ clients: WebSocket[]; failed: number; seconds: number }> {
  const clients: WebSocket[] = [];
  let failed = 0;
  let index = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: Math.min(200, count) }, async () => {
      while (index < count) {
        const n = index++;
        try {
          clients.push(await connectClient(port, clientAddress(n)));
        } catch {
          failed++;
        }
      }
    }),
  );
  return { clients, failed, seconds: (performance.now() - started) / 1000 };
}

// ---------------------------------------------------------------------------------------------

/** Open file descriptors of a process (its sockets among them). */
function openFds(pid: number): number {
  try {
    return readdirSync(`/proc/${pid}/fd`).length;
  } catch {
    return NaN;
  }
}

/** Until the process holds at most `fds` descriptors (its clients' sockets closed), then a moment to settle. */
async function waitForFds(pid: number, fds: number, timeout = 30_000): Promise<void> {
  const deadline = Date.now() + timeout;
  while (Date.now() < deadline && openFds(pid) > fds) await sleep(200);
  await sleep(1000);
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function ownRss(pid: number): number {
  try {
    return Number(readFileSync(`/proc/${pid}/statm`, "utf8").split(" ")[1]) * 4096;
  } catch {
    return NaN;
  }
}

function treeRss(pid: number): number {
  return processTree(pid).reduce((sum, p) => sum + ownRss(p), 0);
}

interface Point {
  rssBeforeGc: number;
  heapTotalBeforeGc: number;
  rss: number;
  treeRss: number;
  heapUsed: number;
  heapTotal: number;
}

interface RunResult {
  system: string;
  n: number;
  failed: number;
  connectSeconds: number;
  at0: Point;
  atN: Point;
  /** At N, and after the N clients left (so the process's growth from the first snapshot is not counted per socket). */
  snapshotN?: SnapshotSummary;
  /** Sockets open at snapshotN. */
  snapshotSockets?: number;
  snapshot0?: SnapshotSummary;
}

async function startSystem(system: MemorySystem, redisUrl: string): Promise<{ child: ChildProcess; port: number; inspectPort: number }> {
  const port = await freePort();
  const inspectPort = await freePort();
  const env: NodeJS.ProcessEnv = { ...process.env, PORT: String(port) };
  delete env.REDIS_URL;
  delete env.WORKERS;
  Object.assign(env, extraEnv);
  if (nodeOptions) env.NODE_OPTIONS = `${env.NODE_OPTIONS ?? ""} ${nodeOptions}`.trim();
  const { NODE_OPTIONS: variantOptions, ARGV: variantArgv, ...variantEnv } = system.env ?? {};
  Object.assign(env, variantEnv);
  if (variantOptions) env.NODE_OPTIONS = `${env.NODE_OPTIONS ?? ""} ${variantOptions}`.trim();
  // ARGV: node flags on the command line (V8 flags NODE_OPTIONS refuses); the gateway's workers inherit them (cluster's execArgv).
  const args = [...(variantArgv ? variantArgv.split(" ") : []), ...system.command(port, inspectPort, redisUrl)];
  const child = spawn(process.execPath, args, { env, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${system.name} not ready in 30 s: ${output}`)), 30_000);
    child.stdout.on("data", (chunk: Buffer) => {
      output += chunk.toString();
      if (!/^ready: /m.test(output)) return;
      clearTimeout(timer);
      resolve();
    });
    child.once("exit", (code) => (clearTimeout(timer), reject(new Error(`${system.name} exited (${code}): ${output}`))));
    child.stderr.on("data", (chunk: Buffer) => {
      const text = chunk.toString().replace(/^(Debugger listening|Debugger ending|For help, see).*\n/gm, "");
      if (text) process.stderr.write(`[${system.name}] ${text}`);
    });
  });
  return { child, port, inspectPort };
}

async function stopSystem(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const pids = processTree(child.pid!);
  const exited = new Promise((resolve) => child.once("exit", resolve));
  child.kill("SIGTERM");
  const timer = setTimeout(() => pids.forEach((pid) => kill(pid)), 5000);
  await exited;
  clearTimeout(timer);
  for (const pid of pids) kill(pid);
}

function kill(pid: number): void {
  try {
    process.kill(pid, "SIGKILL");
  } catch {
    // gone
  }
}

async function measure(inspector: Inspector, served: number, tree: number, primary?: Inspector): Promise<Point> {
  await sleep(idleSeconds * 1000);
  const rssBeforeGc = ownRss(served);
  const usage = (await inspector.call("Runtime.getHeapUsage")) as { usedSize: number; totalSize: number };
  const heap = await inspector.gcAndHeap();
  await primary?.gcAndHeap();
  await sleep(500);
  const point: Point = {
    rssBeforeGc,
    heapTotalBeforeGc: usage.totalSize,
    rss: ownRss(served),
    treeRss: treeRss(tree),
    heapUsed: heap.used,
    heapTotal: heap.total,
  };
  return point;
}

async function run(system: MemorySystem, redisUrl: string): Promise<RunResult> {
  const { child, port, inspectPort } = await startSystem(system, redisUrl);
  let clients: WebSocket[] = [];
  try {
    const served = system.servedByChild ? processTree(child.pid!)[1] : child.pid!;
    const inspector = await Inspector.open(system.servedByChild ? inspectPort + 1 : inspectPort);
    // The gateway's primary too: collected before each reading, so its RSS is not garbage waiting for a GC.
    const primary = system.servedByChild ? await Inspector.open(inspectPort) : undefined;
    try {
      // Warm-up: a few connections, so code compiled on the first ones is not counted per socket.
      const warm = await connectAll(port, 20);
      for (const ws of warm.clients) ws.terminate();
      await sleep(500);
      const at0 = await measure(inspector, served, child.pid!, primary);
      const fdsAt0 = openFds(served);
      const connected = await connectAll(port, N);
      clients = connected.clients;
      const atN = await measure(inspector, served, child.pid!, primary);
      const result: RunResult = { system: system.name, n: clients.length, failed: connected.failed, connectSeconds: connected.seconds, at0, atN };
      if (snapshots) {
        // Snapshots after the RSS readings (a snapshot grows the process), at SNAPSHOT_N sockets (the
        // others closed first: a snapshot blocks the process ~2 s per 1,000 sockets, and the gateway's
        // primary kills a worker silent for 9 s), and the "0" one once all the clients left.
        const kept = Math.min(SNAPSHOT_N, clients.length);
        for (const ws of clients.splice(kept)) ws.terminate();
        await waitForFds(served, fdsAt0 + kept + 5);
        result.snapshotSockets = kept;
        result.snapshotN = await inspector.snapshot();
        for (const ws of clients) ws.terminate();
        clients = [];
        await waitForFds(served, fdsAt0 + 5);
        result.snapshot0 = await inspector.snapshot();
      }
      report(result);
      return result;
    } finally {
      inspector.close();
      primary?.close();
    }
  } finally {
    for (const ws of clients) ws.terminate();
    await stopSystem(child);
  }
}

const kb = (bytes: number): string => (bytes / 1024).toFixed(2);

function perSocket(result: RunResult): Record<string, string> {
  const { at0, atN, n } = result;
  return {
    "worker RSS": kb((atN.rss - at0.rss) / n),
    "worker RSS idle no GC": kb((atN.rssBeforeGc - at0.rssBeforeGc) / n),
    "heap total idle no GC": kb((atN.heapTotalBeforeGc - at0.heapTotalBeforeGc) / n),
    "tree RSS": kb((atN.treeRss - at0.treeRss) / n),
    "heap used": kb((atN.heapUsed - at0.heapUsed) / n),
    "heap total": kb((atN.heapTotal - at0.heapTotal) / n),
  };
}

function report(result: RunResult): void {
  process.stdout.write(
    `${result.system}: ${result.n} sockets (${result.failed} failed) in ${result.connectSeconds.toFixed(1)} s; KB per socket ${JSON.stringify(perSocket(result))}\n`,
  );
}

function breakdown(result: RunResult): string[] {
  const before = result.snapshot0;
  const after = result.snapshotN;
  if (!before || !after) return [];
  const table = (which: "byKind" | "byRetainer", top: number, title: string): string[] => {
    const rows: { key: string; count: number; bytes: number }[] = [];
    for (const [key, entry] of after[which]) {
      const base = before[which].get(key) ?? { count: 0, bytes: 0 };
      const sockets = result.snapshotSockets ?? result.n;
      rows.push({ key, count: (entry.count - base.count) / sockets, bytes: (entry.bytes - base.bytes) / sockets });
    }
    rows.sort((a, b) => b.bytes - a.bytes);
    const total = rows.reduce((sum, row) => sum + row.bytes, 0);
    const objects = rows.reduce((sum, row) => sum + row.count, 0);
    const lines = [
      `#### ${title}: ${total.toFixed(0)} B in ${objects.toFixed(1)} nodes per socket`,
      "",
      "| kind | count per socket | bytes per socket |",
      "|---|---:|---:|",
    ];
    for (const row of rows.slice(0, top)) {
      if (Math.abs(row.bytes) < 8 && Math.abs(row.count) < 0.5) continue;
      lines.push(`| ${row.key.replaceAll("|", "\\|")} | ${row.count.toFixed(2)} | ${row.bytes.toFixed(0)} |`);
    }
    lines.push("");
    return lines;
  };
  return [
    `### ${result.system}: heap snapshot at ${result.snapshotSockets ?? result.n} sockets minus after they left`,
    "",
    ...table("byKind", 40, "per constructor / kind"),
    ...(process.argv.includes("--retainers") ? table("byRetainer", 120, "per kind ← first retainer (kind.edge)") : []),
  ];
}

/** A run's figures, with the snapshot deltas per socket by kind and by retainer (for offline comparisons). */
function perSocketJson(result: RunResult): Record<string, unknown> {
  const delta = (which: "byKind" | "byRetainer"): Record<string, [number, number]> => {
    const out: Record<string, [number, number]> = {};
    if (!result.snapshotN || !result.snapshot0) return out;
    const keys = new Set([...result.snapshotN[which].keys(), ...result.snapshot0[which].keys()]);
    for (const key of keys) {
      const after = result.snapshotN[which].get(key) ?? { count: 0, bytes: 0 };
      const before = result.snapshot0[which].get(key) ?? { count: 0, bytes: 0 };
      const sockets = result.snapshotSockets ?? result.n;
      const count = (after.count - before.count) / sockets;
      const bytes = (after.bytes - before.bytes) / sockets;
      if (Math.abs(bytes) >= 1 || Math.abs(count) >= 0.05) out[key] = [Number(count.toFixed(3)), Number(bytes.toFixed(1))];
    }
    return out;
  };
  return { system: result.system, n: result.n, perSocketKB: perSocket(result), byKind: delta("byKind"), byRetainer: delta("byRetainer") };
}

async function main(): Promise<void> {
  const redis = await RedisServer.start();
  const results: RunResult[] = [];
  const load = loadavg()
    .map((value) => value.toFixed(2))
    .join(" ");
  const started = performance.now();
  try {
    for (let round = 0; round < rounds; round++) {
      for (const system of SYSTEMS) results.push(await run(system, redis.url));
    }
  } finally {
    await redis.stop();
  }
  const lines = [
    `# Memory per idle WebSocket connection (partial run)`,
    "",
    `\`${process.argv.slice(2).join(" ") || "(defaults)"}\`, N = ${N}, node ${process.version}, NODE_OPTIONS for the systems: \`${nodeOptions || "(none)"}\`; load average at start ${load}, ` +
      `${((performance.now() - started) / 1000).toFixed(0)} s.`,
    "",
    `KB per socket: (value at N − value at 0) / N. "idle no GC": the worker's RSS after the clients sat idle ${idleSeconds} s, before any forced GC (what an operator sees); the other columns after a forced full GC (worker, whole tree with the primary collected too, V8 heap). Medians (and spread) over rounds when more than one.`,
    "",
    "| system | rounds | worker RSS | worker RSS idle no GC | tree RSS | heap used | heap total | connect s |",
    "|---|---:|---:|---:|---:|---:|---:|---:|",
  ];
  for (const system of SYSTEMS) {
    const mine = results.filter((result) => result.system === system.name);
    if (mine.length === 0) continue;
    const figures = mine.map(perSocket);
    const col = (key: string): string => {
      const values = figures.map((figure) => Number(figure[key]));
      return mine.length > 1 ? `${median(values).toFixed(2)} (${Math.min(...values).toFixed(2)}–${Math.max(...values).toFixed(2)})` : values[0].toFixed(2);
    };
    lines.push(
      `| ${system.name} | ${mine.length} | ${col("worker RSS")} | ${col("worker RSS idle no GC")} | ${col("tree RSS")} | ${col("heap used")} | ${col("heap total")} | ${median(mine.map((m) => m.connectSeconds)).toFixed(1)} |`,
    );
  }
  lines.push("");
  for (const system of SYSTEMS) {
    const last = results.filter((result) => result.system === system.name).at(-1);
    if (last) lines.push(...breakdown(last));
  }
  writeFileSync(`${root}/bench/memory.quick.md`, lines.join("\n"));
  writeFileSync(`${root}/bench/results.memory.partial.json`, JSON.stringify(results.map(perSocketJson), null, 1));
  process.stdout.write(lines.join("\n") + "\n");
}

await main();
