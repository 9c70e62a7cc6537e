/**
 * Observability: /metrics aggregated over the workers, read through the public port; the
 * admin UI across workers; /metrics off or on a port of its own.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { io as connectNamespace } from "socket.io-client";
import { connectClient, loopbackAddress, request, type Hello, type TestClient } from "../helpers/clients.js";
import { httpRequest } from "../helpers/engine-raw.js";
import { GatewayProcess } from "../helpers/gateway-process.js";
import { Inbox } from "../helpers/inbox.js";
import { freePort } from "../helpers/ports.js";
import { parsePrometheus, valueOf, type Sample } from "../helpers/prometheus.js";
import { RedisServer } from "../helpers/redis-server.js";
import { waitFor, waitUntil } from "../helpers/wait.js";

async function scrape(port: number, families?: Map<string, string>): Promise<Sample[]> {
  const response = await httpRequest(port, "GET", "/metrics");
  assert.equal(response.status, 200, response.body.toString());
  assert.match(String(response.headers["content-type"]), /^text\/plain; version=0\.0\.4/);
  return parsePrometheus(response.body.toString(), families);
}

describe("metrics", () => {
  let redis: RedisServer;
  let gateway: GatewayProcess;
  const clients: TestClient[] = [];

  before(async () => {
    redis = await RedisServer.start();
    gateway = await GatewayProcess.start(["--workers", "2", "--redis", redis.url]);
    for (let n = 0; n < 30; n++) clients.push(await connectClient(gateway.url, { localAddress: loopbackAddress(n) }));
  });
  after(async () => {
    for (const client of clients) client.close();
    const result = await gateway.stop();
    await redis.stop();
    assert.equal(result.code, 0, result.stderr);
  });

  it("parses as Prometheus text and has the gateway's, Node's and the process' metrics", async () => {
    const families = new Map<string, string>();
    const samples = await scrape(gateway.port, families);
    for (const name of [
      "sio_gateway_workers",
      "sio_gateway_connected_sockets",
      "sio_gateway_worker_connected_sockets",
      "sio_gateway_connections_total",
      "sio_gateway_disconnections_total",
      "sio_gateway_handshakes_total",
      "sio_gateway_upgrades_total",
      "sio_gateway_events_received_total",
      "sio_gateway_broadcasts_total",
      "sio_gateway_deliveries_total",
      "sio_gateway_adapter_publish_failures_total",
      "sio_gateway_adapter_connected",
      "sio_gateway_worker_restarts",
      "process_cpu_seconds_total",
      "process_resident_memory_bytes",
      "nodejs_eventloop_lag_seconds",
    ]) {
      // A labelled counter with nothing counted yet has its TYPE line but no sample.
      assert.ok(families.has(name) || families.has(name.replace(/_total$/, "")), `missing ${name}`);
    }
    assert.equal(valueOf(samples, "sio_gateway_adapter_connected", { adapter: "redis" }), 2);
    assert.ok(valueOf(samples, "process_resident_memory_bytes", { worker: "0" }) > 0);
    assert.ok(valueOf(samples, "sio_gateway_handshakes_total", { transport: "polling" }) >= 30);
  });

  it("counts 30 connected sockets, and the per-worker values sum to it", async () => {
    const samples = await scrape(gateway.port);
    assert.equal(valueOf(samples, "sio_gateway_connected_sockets"), 30);
    const perWorker = [0, 1].map((worker) => valueOf(samples, "sio_gateway_worker_connected_sockets", { worker: String(worker) }));
    assert.ok(
      perWorker.every((count) => count > 0),
      `sockets per worker: ${perWorker.join(",")}`,
    );
    assert.equal(perWorker[0] + perWorker[1], 30);
    assert.equal(perWorker[0], clients.filter((client) => client.hello.worker === 0).length);
  });

  it("grows the delivery counter by k after a chat to a room of k members on both workers", async () => {
    const members = clients.slice(0, 7);
    assert.deepEqual(new Set(members.map((member) => member.hello.worker)).size, 2);
    const inboxes = members.map((member) => new Inbox(member.socket));
    for (const member of members) await request(member.socket, "join", "counted");
    // The joins announce member counts; wait until the last announcement reached everyone, so it is out of the way.
    await Promise.all(
      inboxes.map((inbox) =>
        waitUntil(() => inbox.of("members").some(([update]) => (update as { members: number }).members === 7), "the last member count arrived"),
      ),
    );
    const before = await scrape(gateway.port);
    await request(members[0].socket, "chat", { room: "counted", text: "count me" });
    await Promise.all(inboxes.map((inbox) => inbox.waitFor("chat")));
    const after = await scrape(gateway.port);
    assert.equal(valueOf(after, "sio_gateway_deliveries_total") - valueOf(before, "sio_gateway_deliveries_total"), members.length);
    assert.equal(valueOf(after, "sio_gateway_broadcasts_total") - valueOf(before, "sio_gateway_broadcasts_total"), 1);
    assert.ok(valueOf(after, "sio_gateway_events_received_total") > valueOf(before, "sio_gateway_events_received_total"));
  });

  it("shows a killed worker in the restart counter, and the workers gauge back at 2", async () => {
    const victim = clients.find((client) => client.hello.worker === 1)!;
    const back = waitFor<[Hello]>(victim.socket, "hello", 20_000);
    process.kill(victim.hello.pid, "SIGKILL");
    await back;
    await waitUntil(async () => {
      const samples = await scrape(gateway.port);
      return valueOf(samples, "sio_gateway_worker_restarts") === 1 && valueOf(samples, "sio_gateway_workers") === 2;
    }, "restarts = 1 and workers = 2");
    // The victim's connection closed with the worker; the replacement's is a new one.
    assert.ok(valueOf(await scrape(gateway.port), "sio_gateway_connections_total") >= 1);
  });
});

describe("metrics placement and the admin UI", () => {
  it("--metrics PORT serves /metrics on the primary's own port only; --metrics off turns it off", async () => {
    const port = await freePort();
    const separate = await GatewayProcess.start(["--workers", "1", "--metrics", String(port)]);
    try {
      assert.equal((await httpRequest(separate.port, "GET", "/metrics")).status, 404);
      assert.equal(valueOf(await scrape(port), "sio_gateway_workers"), 1);
    } finally {
      assert.equal((await separate.stop()).code, 0);
    }
    const off = await GatewayProcess.start(["--workers", "1", "--metrics", "off"]);
    try {
      assert.equal((await httpRequest(off.port, "GET", "/metrics")).status, 404);
    } finally {
      assert.equal((await off.stop()).code, 0);
    }
  });

  it("--admin-ui requires its credentials and reports every worker; its UI is served by the gateway", async () => {
    const redis = await RedisServer.start();
    const gateway = await GatewayProcess.start(["--workers", "2", "--redis", redis.url, "--admin-ui", "admin:correct-horse"]);
    const workerPids = gateway.workerPids();
    try {
      const page = await httpRequest(gateway.port, "GET", "/admin-ui/");
      assert.equal(page.status, 200);
      assert.match(page.body.toString(), /<html/i);

      const intruder = connectNamespace(`${gateway.url}/admin`, {
        auth: { username: "admin", password: "wrong-password" },
        transports: ["websocket"],
        forceNew: true,
        reconnection: false,
      });
      const [refusal] = await waitFor<[Error]>(intruder, "connect_error");
      assert.match(refusal.message, /invalid credentials/i);
      intruder.close();

      const admin = connectNamespace(`${gateway.url}/admin`, {
        auth: { username: "admin", password: "correct-horse" },
        transports: ["websocket"],
        forceNew: true,
      });
      const statsFrom = new Set<number>();
      admin.on("server_stats", (stats: { pid: number }) => statsFrom.add(stats.pid));
      try {
        await waitFor(admin, "connect");
        // Each worker reports every 2 s through the adapter: both arrive on this one connection.
        await waitUntil(() => statsFrom.size === 2, "server_stats from both workers", 10_000);
        assert.deepEqual(
          [...statsFrom].sort((a, b) => a - b),
          workerPids,
        );
      } finally {
        admin.close();
      }
    } finally {
      const result = await gateway.stop();
      await redis.stop();
      assert.equal(result.code, 0, result.stderr);
    }
  });
});
