/**
 * `npm run bench:pubsub` (about 1 min) · `npm run bench:pubsub -- --quick` (under 40 s):
 * plain vs sharded pub/sub on a real Redis Cluster (three primaries), side by side.
 *
 * For each mode in turn (plain, sharded, plain, sharded, …): a fresh gateway (2 workers,
 * `--redis redis-cluster://…?pubsub=MODE`), one WebSocket client per room on each worker,
 * and the sio-gateway emitter (same mode) pushing room messages, a window of them in flight,
 * round robin over the rooms. Figures: messages per second from the first publish to the last
 * delivery; Redis CPU (all primaries) and gateway CPU (primary + workers) per message; and the
 * cluster-bus messages each published message caused (CLUSTER INFO publish counters): plain
 * PUBLISH is relayed to every other node, sharded SPUBLISH stays on its shard. Clients and the
 * emitter run in this process; Redis, the gateway and this process share the machine's cores.
 * Writes bench/RESULTS.pubsub.md and bench/results.pubsub.json (`.quick` for a quick run).
 */
import { cpus, totalmem } from "node:os";
import { writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { GatewayEmitter } from "../adapter/emitter/index.js";
import { clientsPerWorker, request, type TestClient } from "../test/helpers/clients.js";
import { GatewayProcess } from "../test/helpers/gateway-process.js";
import { RedisClusterSet } from "../test/helpers/redis-cluster.js";
import { waitUntil } from "../test/helpers/wait.js";
import { cpuSeconds } from "./systems.js";
import { median } from "./stats.js";

const quick = process.argv.includes("--quick");
const ROUNDS = quick ? 1 : 3;
const MESSAGES = quick ? 10_000 : 100_000;
const ROOMS = 24;
/** Messages published but not yet answered by Redis; keeps the emitter busy without an unbounded queue. */
const WINDOW = 200;
/** A chat-sized message. */
const TEXT = "x".repeat(120);
const RUN_TIMEOUT_MS = 60_000;
const MODES = ["plain", "sharded"] as const;
type Mode = (typeof MODES)[number];
/**
 * Where the rooms' members are. `both`: every room has a member on each worker (a message is
 * delivered twice). `split`: room i only on worker i mod 2 (delivered once), as when users of a
 * room happen to share a process: plain pub/sub still brings every message to every worker.
 */
const LAYOUTS = ["both", "split"] as const;
type Layout = (typeof LAYOUTS)[number];
const here = fileURLToPath(new URL(".", import.meta.url));
const root = fileURLToPath(new URL("..", import.meta.url));

interface Run {
  layout: Layout;
  mode: Mode;
  round: number;
  messagesPerSecond: number;
  redisCpuUsPerMessage: number;
  gatewayCpuUsPerMessage: number;
  busMessagesPerMessage: number;
  lost: number;
}

/** Cluster-bus publish messages sent so far, all nodes (`cluster_stats_messages_publish*_sent`). */
async function busPublishes(set: RedisClusterSet): Promise<number> {
  let total = 0;
  for (const info of await set.clusterInfos()) {
    for (const match of info.matchAll(/^cluster_stats_messages_publish(?:shard)?_sent:(\d+)/gm)) total += Number(match[1]);
  }
  return total;
}

const redisCpu = (set: RedisClusterSet) => set.pids().reduce((sum, pid) => sum + cpuSeconds(pid), 0);

async function runOnce(set: RedisClusterSet, layout: Layout, mode: Mode, round: number): Promise<Run> {
  const url = set.url(`?pubsub=${mode}`);
  const gateway = await GatewayProcess.start([
    "--workers",
    "2",
    "--redis",
    url,
    "--app",
    `${root}bench/app.mjs`,
    "--rate-limit",
    "0",
    "--max-conns-per-ip",
    "0",
  ]);
  const emitter = new GatewayEmitter({ redis: url, timeout: 10_000 });
  let clients: TestClient[] = [];
  try {
    clients = await clientsPerWorker(gateway.url, 2, ROOMS, { transports: ["websocket"] });
    let received = 0;
    for (const worker of [0, 1]) {
      const onWorker = clients.filter((client) => client.hello.worker === worker);
      for (const [index, client] of onWorker.entries()) {
        if (layout === "split" && index % 2 !== worker) continue;
        await request(client.socket, "join", `room-${index}`);
        client.socket.on("m", () => received++);
      }
    }
    const membersPerRoom = layout === "both" ? 2 : 1;
    // Warm-up: every room's channel is subscribed before the clock starts (sharded SPUBLISH
    // counts the room's subscribers; a plain PUBLISH on a Cluster counts only one node's).
    for (let room = 0; room < ROOMS; room++) {
      await waitUntil(async () => (await emitter.to(`room-${room}`).emit("warm")) >= (mode === "sharded" ? membersPerRoom : 0), `room-${room} subscribed`);
    }
    const expected = MESSAGES * membersPerRoom;
    const cpuBefore = { redis: redisCpu(set), gateway: cpuSeconds(gateway.child.pid!) };
    const busBefore = await busPublishes(set);
    const started = performance.now();
    let sent = 0;
    const publisher = async (): Promise<void> => {
      while (sent < MESSAGES) {
        const n = sent++;
        await emitter.to(`room-${n % ROOMS}`).emit("m", { n, text: TEXT });
      }
    };
    await Promise.all(Array.from({ length: WINDOW }, publisher));
    await waitUntil(() => received >= expected, `${expected} deliveries`, RUN_TIMEOUT_MS, 5).catch(() => undefined);
    const seconds = (performance.now() - started) / 1000;
    const cpuAfter = { redis: redisCpu(set), gateway: cpuSeconds(gateway.child.pid!) };
    const bus = (await busPublishes(set)) - busBefore;
    return {
      layout,
      mode,
      round,
      messagesPerSecond: MESSAGES / seconds,
      redisCpuUsPerMessage: ((cpuAfter.redis - cpuBefore.redis) / MESSAGES) * 1e6,
      gatewayCpuUsPerMessage: ((cpuAfter.gateway - cpuBefore.gateway) / MESSAGES) * 1e6,
      busMessagesPerMessage: bus / MESSAGES,
      lost: expected - Math.min(received, expected),
    };
  } finally {
    await emitter.close();
    for (const client of clients) client.close();
    await gateway.stop();
  }
}

const FIGURES: { key: keyof Run; label: string; digits: number }[] = [
  { key: "messagesPerSecond", label: "messages/s, median", digits: 0 },
  { key: "redisCpuUsPerMessage", label: "Redis CPU µs / message", digits: 1 },
  { key: "gatewayCpuUsPerMessage", label: "gateway CPU µs / message", digits: 1 },
  { key: "busMessagesPerMessage", label: "cluster-bus messages / message", digits: 2 },
  { key: "lost", label: "lost deliveries", digits: 0 },
];

function table(runs: Run[]): string[] {
  const of = (mode: Mode, key: keyof Run) => runs.filter((run) => run.mode === mode).map((run) => run[key] as number);
  const lines = [`| figure | plain (PUBLISH) | sharded (SPUBLISH) | sharded / plain | spread plain · sharded (min–max) |`, "|---|---|---|---|---|"];
  for (const { key, label, digits } of FIGURES) {
    const plain = of("plain", key);
    const sharded = of("sharded", key);
    const ratio = median(plain) === 0 ? "–" : `${(median(sharded) / median(plain)).toFixed(2)}x`;
    const spread = (values: number[]) => `${fmt(Math.min(...values), digits)}–${fmt(Math.max(...values), digits)}`;
    lines.push(`| ${label} | ${fmt(median(plain), digits)} | ${fmt(median(sharded), digits)} | ${ratio} | ${spread(plain)} · ${spread(sharded)} |`);
  }
  return lines;
}

function fmt(value: number, digits: number): string {
  return value.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

function report(runs: Run[], minutes: string): string {
  return [
    "# Plain vs sharded pub/sub on Redis Cluster",
    "",
    `${new Date().toISOString().slice(0, 10)} · ${cpus()[0]?.model ?? "unknown CPU"}, ${cpus().length} cores, ${(totalmem() / 2 ** 30).toFixed(0)} GiB · Node ${process.version} · ${ROUNDS} round(s), modes alternated · ${minutes} min`,
    "",
    `Produced by \`npm run bench:pubsub${quick ? " -- --quick" : ""}\` (bench/pubsub.ts). Redis Cluster of 3 primaries (redis-server 7, no replicas), one gateway`,
    `of 2 workers, ${ROOMS} rooms, ${MESSAGES.toLocaleString("en-US")} messages of ${TEXT.length} characters from the sio-gateway emitter, ${WINDOW} in flight,`,
    "round robin over the rooms. Redis, the gateway and the clients + emitter share the machine's cores.",
    "",
    `## Every room has a member on each worker (each message delivered twice)`,
    "",
    ...table(runs.filter((run) => run.layout === "both")),
    "",
    `## Each room's member on one worker only (each message delivered once)`,
    "",
    ...table(runs.filter((run) => run.layout === "split")),
    "",
  ].join("\n");
}

async function main(): Promise<void> {
  const started = Date.now();
  const set = await RedisClusterSet.start({ primaries: 3 });
  const runs: Run[] = [];
  try {
    for (const layout of LAYOUTS) {
      for (let round = 1; round <= ROUNDS; round++) {
        for (const mode of MODES) {
          const run = await runOnce(set, layout, mode, round);
          runs.push(run);
          process.stderr.write(`${layout} round ${round} ${mode}: ${JSON.stringify(run)}\n`);
        }
      }
    }
  } finally {
    await set.stop();
  }
  const text = report(runs, ((Date.now() - started) / 60_000).toFixed(1));
  const suffix = quick ? ".quick" : "";
  writeFileSync(`${here}RESULTS.pubsub${suffix}.md`, text);
  writeFileSync(
    `${here}results.pubsub${suffix}.json`,
    JSON.stringify({ date: new Date().toISOString(), cpu: cpus()[0]?.model, cores: cpus().length, node: process.version, quick, runs }, null, 2),
  );
  process.stdout.write(`${text}\nwritten to bench/RESULTS.pubsub${suffix}.md\n`);
}

main().catch((error: Error) => {
  process.stderr.write(`bench:pubsub failed: ${error.stack ?? error.message}\n`);
  process.exit(1);
});
