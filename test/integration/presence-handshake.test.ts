/**
 * Hostile handshakes against the demo app (issue 17), 2 workers, Redis. A 20,000-level `auth`
 * once overflowed a worker's stack while a `fetchSockets` answer was serialized, and 900 KB auths
 * made every join copy megabytes between processes. Now each is refused at the handshake with a
 * `connect_error` naming the limit (a 1 MB one never even fits a frame), counted in the metrics,
 * while the other clients' joins on both workers go on, correct, and no worker dies.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { io } from "socket.io-client";
import { WebSocket } from "ws";
import { slotForIp } from "../../gateway/routing.js";
import { AUTH_LIMITS, QUERY_LIMITS } from "../../gateway/worker/handshake-guard.js";
import { clientsPerWorker, loopbackAddress, request, type TestClient } from "../helpers/clients.js";
import { GatewayProcess } from "../helpers/gateway-process.js";
import { parsePrometheus } from "../helpers/prometheus.js";
import { RedisServer } from "../helpers/redis-server.js";
import { waitFor } from "../helpers/wait.js";

const DEEP_AUTH = `${'{"a":'.repeat(20_000)}1${"}".repeat(20_000)}`;
const LARGE_AUTH = JSON.stringify({ token: "x".repeat(900_000) });
const MEGABYTE_AUTH = JSON.stringify({ token: "x".repeat(1_048_576) });

/** An address from `offset` on whose IP hash is `worker` (of 2). */
function addressOn(worker: number, offset: number): string {
  for (let n = offset; n < offset + 100; n++) if (slotForIp(loopbackAddress(n), 2) === worker) return loopbackAddress(n);
  throw new Error("no address for the worker");
}

type Outcome = { connected: true } | { connected: false; error?: string; closeCode?: number };

/**
 * A raw Engine.IO WebSocket that sends one Socket.IO CONNECT packet with `auth` (what no
 * socket.io-client would encode: its own encoder recurses through a 20,000-level object), and
 * tells what came back: the CONNECT answer, a connect_error, or a close.
 */
async function rawConnect(port: number, localAddress: string, authJson: string, query = ""): Promise<Outcome> {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/socket.io/?EIO=4&transport=websocket${query}`, { localAddress, maxPayload: 10_000_000 });
  try {
    const [open] = await waitFor<[Buffer]>(ws, "message");
    assert.match(open.toString(), /^0\{/);
    ws.send(`40${authJson}`);
    const outcome = await Promise.race([
      waitFor<[Buffer]>(ws, "message").then(([data]): Outcome => {
        const text = data.toString();
        if (text.startsWith("40")) return { connected: true };
        assert.match(text, /^44/, `unexpected packet: ${text.slice(0, 80)}`);
        return { connected: false, error: (JSON.parse(text.slice(2)) as { message: string }).message };
      }),
      waitFor<[number]>(ws, "close").then(([code]): Outcome => ({ connected: false, closeCode: code })),
    ]);
    return outcome;
  } finally {
    ws.terminate();
  }
}

describe("hostile handshakes, 2 workers, Redis", () => {
  let redis: RedisServer;
  let gateway: GatewayProcess;
  let clients: TestClient[] = [];
  let pids: number[];

  before(async () => {
    redis = await RedisServer.start();
    gateway = await GatewayProcess.start(["--workers", "2", "--redis", redis.url]);
    clients = await clientsPerWorker(gateway.url, 2, 10, { transports: ["websocket"] });
    pids = gateway.workerPids();
  });
  after(async () => {
    for (const client of clients) client.close();
    const result = await gateway.stop();
    await redis.stop();
    assert.equal(result.code, 0, result.stderr);
  });

  it("a 20,000-level, a 900 KB and a 1 MB auth, and a huge query, are refused on both workers while the others' joins stay correct", async () => {
    const hostile: Promise<Outcome>[] = [];
    for (const worker of [0, 1]) {
      for (let i = 0; i < 5; i++) {
        hostile.push(rawConnect(gateway.port, addressOn(worker, 300 + i * 10), DEEP_AUTH));
        hostile.push(rawConnect(gateway.port, addressOn(worker, 400 + i * 10), LARGE_AUTH));
      }
      hostile.push(rawConnect(gateway.port, addressOn(worker, 500), MEGABYTE_AUTH));
      hostile.push(rawConnect(gateway.port, addressOn(worker, 510), "{}", `&junk=${"q".repeat(QUERY_LIMITS.maxChars + 100)}`));
    }
    // Meanwhile, every client on both workers joins, one after another, and each ack counts right.
    const latencies: number[] = [];
    for (const [index, client] of clients.entries()) {
      const started = performance.now();
      const joined = await request<{ ok: boolean; members: number }>(client.socket, "join", "calm");
      latencies.push(performance.now() - started);
      assert.deepEqual(joined, { ok: true, room: "calm", members: index + 1 });
    }
    const outcomes = await Promise.all(hostile);

    const [deep, large, megabyte, query] = [0, 1, 10, 11].map((index) => outcomes[index]);
    assert.deepEqual(deep, { connected: false, error: `handshake auth nested deeper than ${AUTH_LIMITS.maxDepth} levels` });
    assert.deepEqual(large, { connected: false, error: `handshake auth larger than ${AUTH_LIMITS.maxChars} characters` });
    // Over Socket.IO's maxHttpBufferSize (1e6): the frame itself is refused (1009), before any parsing.
    assert.deepEqual(megabyte, { connected: false, closeCode: 1009 });
    assert.deepEqual(query, { connected: false, error: `handshake query larger than ${QUERY_LIMITS.maxChars} characters` });
    assert.equal(outcomes.filter((outcome) => outcome.connected).length, 0);
    assert.deepEqual(gateway.workerPids(), pids, "no worker may die");
    process.stdout.write(`# joins during the hostile handshakes: max ${Math.round(Math.max(...latencies))} ms, ${latencies.length} joins\n`);

    const metrics = parsePrometheus(await (await fetch(`${gateway.url}/metrics`)).text());
    const refused = (reason: string): number =>
      metrics.find((sample) => sample.name === "sio_gateway_handshakes_refused_total" && sample.labels.reason === reason)?.value ?? 0;
    assert.equal(refused("auth"), 20);
    assert.equal(refused("query"), 2);
  });

  it("socket.io-client sees the refusal as a connect_error naming the limit", async () => {
    const socket = io(gateway.url, { transports: ["websocket"], auth: { token: "x".repeat(AUTH_LIMITS.maxChars + 1) }, reconnection: false, forceNew: true });
    try {
      const [error] = await waitFor<[Error]>(socket, "connect_error");
      assert.equal(error.message, `handshake auth larger than ${AUTH_LIMITS.maxChars} characters`);
    } finally {
      socket.disconnect();
    }
  });
});
