/** The systems the benchmarks compare, each started fresh as a child process for every run. */
import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { ClientKind } from "./load.js";

const root = fileURLToPath(new URL("..", import.meta.url));
const tsx = ["--import", "tsx"];

export interface SystemSpec {
  name: string;
  /** What clients speak to it. */
  kind: ClientKind;
  /** Whether it shares rooms through Redis (so an outside emitter reaches it). */
  redis: boolean;
  command(port: number, redisUrl: string): string[];
  /** The Node binary that runs it (default: the one running the bench). */
  node?: string;
}

/** Flags that take the gateway's per-client limits out of a bench's way (every client is a load generator). */
export const NO_CLIENT_LIMITS = ["--rate-limit", "0", "--max-conns-per-ip", "0"];

export interface GatewayStart {
  /** The directory of the build to run (its dist/); default: this checkout. */
  build?: string;
  port: number;
  workers: number;
  /** `--redis` when given; single-machine mode otherwise. */
  redisUrl?: string;
  app: string;
  /** Flags after `--app` (limits, an emit token…). */
  flags?: readonly string[];
}

/** The arguments (after `node`) that start a sio-gateway build for a bench: every bench starts it this way. */
export function gatewayStartArgs({ build = root, port, workers, redisUrl, app, flags = [] }: GatewayStart): string[] {
  return [
    join(build, "dist/cli/main.js"),
    ...["start", "--host", "127.0.0.1", "--port", String(port), "--workers", String(workers)],
    ...(redisUrl === undefined ? [] : ["--redis", redisUrl]),
    ...["--app", app, ...flags, "--log-level", "warn"],
  ];
}

/** sio-gateway with 2 workers and the lean app, in Redis or single-machine mode, from a build (default: this checkout), on a Node binary. */
function gatewaySystem(name: string, redis: boolean, build?: string, node?: string): SystemSpec {
  return {
    name,
    kind: "socketio",
    redis,
    ...(node ? { node } : {}),
    command: (port, redisUrl) =>
      gatewayStartArgs({ build, port, workers: 2, redisUrl: redis ? redisUrl : undefined, app: `${root}bench/app.mjs`, flags: NO_CLIENT_LIMITS }),
  };
}

export const SYSTEMS: readonly SystemSpec[] = [
  gatewaySystem("sio-gateway (redis)", true),
  gatewaySystem("sio-gateway (single machine)", false),
  { name: "standard recipe (sticky + redis)", kind: "socketio", redis: true, command: () => [...tsx, `${root}bench/servers/sticky-recipe.ts`] },
  { name: "one socket.io process", kind: "socketio", redis: false, command: () => [...tsx, `${root}bench/servers/single-process.ts`] },
  { name: "raw ws (ceiling)", kind: "ws", redis: false, command: () => [...tsx, `${root}bench/servers/raw-ws.ts`] },
];

/**
 * `BENCH_BASELINE_ROOT=<dir>`: also run an older build of the gateway (single machine and Redis
 * mode), e.g. `git archive <commit> | tar -x -C <dir>` built there, to measure a change A B A B
 * against it (`--systems=single` picks both single-machine systems, `--systems=redis` the Redis
 * ones). Same app, same flags. `BENCH_VARIANTS=<name>=<dir>,...` adds more builds the same way,
 * named "sio-gateway <name> (single machine)" and "sio-gateway <name> (redis)";
 * `<name>=<dir>@<node binary>` runs that build on another Node (e.g. Node 24 beside Node 20).
 */
function addBuild(label: string, buildRoot: string, node?: string): void {
  (SYSTEMS as SystemSpec[]).push(
    gatewaySystem(`sio-gateway ${label} (single machine)`, false, buildRoot, node),
    gatewaySystem(`sio-gateway ${label} (redis)`, true, buildRoot, node),
  );
}
const baselineRoot = process.env.BENCH_BASELINE_ROOT;
if (baselineRoot) addBuild("baseline", baselineRoot);
for (const entry of (process.env.BENCH_VARIANTS ?? "").split(",").filter(Boolean)) {
  const [label, target] = entry.split("=");
  const [dir, node] = (target ?? "").split("@");
  if (label && dir) addBuild(label, dir, node);
}

export const REFERENCE = "standard recipe (sticky + redis)";

/** A started system: its process, its port, and how to stop it. */
export class RunningSystem {
  private constructor(
    readonly spec: SystemSpec,
    readonly child: ChildProcess,
    readonly port: number,
  ) {}

  static async start(spec: SystemSpec, port: number, redisUrl: string): Promise<RunningSystem> {
    // REDIS_URL only for the systems that use Redis: the gateway reads it like --redis, so setting it
    // for "single machine" ran that system in Redis mode (bench/RESULTS.md before 2026-11-28).
    const env = { ...process.env, PORT: String(port), REDIS_URL: spec.redis ? redisUrl : undefined, WORKERS: "2" };
    return new RunningSystem(spec, await startServerProcess(spec.name, spec.node ?? process.execPath, spec.command(port, redisUrl), env), port);
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  stop(): Promise<void> {
    return stopProcessTree(this.child);
  }
}

/** Starts a server process and resolves once it prints `ready: ` on stdout (at most 30 s; its stderr is in the error). */
export function startServerProcess(name: string, node: string, args: string[], env: NodeJS.ProcessEnv): Promise<ChildProcess> {
  const child = spawn(node, args, { env, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${name} not ready in 30 s: ${output}`)), 30_000);
    child.stdout.on("data", (chunk: Buffer) => {
      output += chunk.toString();
      if (!/^ready: /m.test(output)) return;
      clearTimeout(timer);
      resolve(child);
    });
    child.once("exit", (code) => (clearTimeout(timer), reject(new Error(`${name} exited (${code}): ${output}`))));
  });
}

/**
 * Stops a server's whole process tree: SIGTERM, SIGKILL for anything left after 5 s, and after
 * `settle` ms past its exit (time for its workers to write a --cpu-prof) every process it had is
 * killed: no worker outlives its run.
 */
export async function stopProcessTree(child: ChildProcess, settle = 0): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once("exit", resolve));
  const pids = processTree(child.pid!);
  child.kill("SIGTERM");
  const timer = setTimeout(() => pids.forEach(killQuietly), 5000);
  await exited;
  if (settle > 0) await new Promise((resolve) => setTimeout(resolve, settle));
  clearTimeout(timer);
  pids.forEach(killQuietly);
}

function killQuietly(pid: number): void {
  try {
    process.kill(pid, "SIGKILL");
  } catch {
    // already gone
  }
}

/** A process and all its descendants, from /proc. */
export function processTree(pid: number): number[] {
  const pids = [pid];
  for (let i = 0; i < pids.length; i++) {
    try {
      const children = readFileSync(`/proc/${pids[i]}/task/${pids[i]}/children`, "utf8").trim();
      if (children) pids.push(...children.split(/\s+/).map(Number));
    } catch {
      // exited meanwhile
    }
  }
  return pids;
}

const TICKS_PER_SECOND = 100; // USER_HZ on Linux

/** CPU seconds (user + system) used so far by a process tree. */
export function cpuSeconds(pid: number): number {
  let ticks = 0;
  for (const p of processTree(pid)) {
    try {
      const fields = readFileSync(`/proc/${p}/stat`, "utf8").split(") ")[1].split(" ");
      ticks += Number(fields[11]) + Number(fields[12]); // utime, stime (fields 14 and 15 of stat)
    } catch {
      // exited meanwhile
    }
  }
  return ticks / TICKS_PER_SECOND;
}

/** Resident memory of a process tree, in bytes. */
export function rssBytes(pid: number): number {
  let pages = 0;
  for (const p of processTree(pid)) {
    try {
      pages += Number(readFileSync(`/proc/${p}/statm`, "utf8").split(" ")[1]);
    } catch {
      // exited meanwhile
    }
  }
  return pages * 4096;
}
