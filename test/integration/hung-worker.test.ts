/**
 * Routing guarantee 7 (shared/CONTRACT.md): a worker that stops answering (SIGSTOP) does not
 * hang the requests routed to it. Every request for its sessions gets an answer within 10 s
 * (503: they live nowhere else), new sessions from its IPs go to another worker, /metrics keeps
 * answering and marks the missing worker, and the primary replaces it after a bound.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { slotForIp } from "../../gateway/routing.js";
import { slotOfSessionId } from "../../gateway/session-id.js";
import { connectClient, loopbackAddress } from "../helpers/clients.js";
import { handshake, httpRequest, postPackets } from "../helpers/engine-raw.js";
import { ECHO_APP } from "../helpers/fixtures.js";
import { GatewayProcess } from "../helpers/gateway-process.js";
import { KeepAliveConnection } from "../helpers/keep-alive.js";
import { parsePrometheus, valueOf } from "../helpers/prometheus.js";
import { waitUntil } from "../helpers/wait.js";

const WORKERS = 2;

function addressesOnSlot(slot: number, count: number, start = 10): string[] {
  const found: string[] = [];
  for (let n = start; n < start + 500 && found.length < count; n++) if (slotForIp(loopbackAddress(n), WORKERS) === slot) found.push(loopbackAddress(n));
  return found;
}

describe("a hung worker", () => {
  it("7. kill -STOP of a worker: 100 requests for its sessions all answered within 10 s, new sessions elsewhere, /metrics 200, replaced", async () => {
    const gateway = await GatewayProcess.start(["--workers", String(WORKERS), "--app", ECHO_APP]);
    let stoppedPid: number | undefined;
    try {
      const [hungAddress, ...more] = addressesOnSlot(0, 11);
      const [healthyAddress] = addressesOnSlot(1, 1, 300);
      const probe = await connectClient(gateway.url, { localAddress: hungAddress, transports: ["polling"], reconnection: false });
      assert.equal(probe.hello.worker, 0);
      const sessions = await Promise.all(more.map((address) => handshake(gateway.port, address)));
      assert.ok(sessions.every((sid) => slotOfSessionId(sid) === 0));
      // A pooled connection pinned to the healthy worker, about to carry a request for the hung worker's session.
      const pooled = await KeepAliveConnection.open(gateway.port, healthyAddress);
      assert.equal((await pooled.request("GET", "/healthz")).status, 200);
      // A connection the hung worker already holds: nobody else can answer on it, so it must close.
      const held = await KeepAliveConnection.open(gateway.port, hungAddress);
      assert.equal((await held.request("GET", "/healthz")).status, 200);

      stoppedPid = probe.hello.pid;
      process.kill(stoppedPid, "SIGSTOP");
      const started = Date.now();
      const onHeld = held.request("GET", "/healthz", undefined, 15_000).then(
        (response) => `answered ${response.status}`,
        (error: Error) => `${error.message} after ${Date.now() - started} ms`,
      );
      const answers = await Promise.allSettled([
        ...Array.from({ length: 100 }, (_, i) => postPackets(gateway.port, sessions[i % sessions.length], ["40"], more[i % more.length])),
        pooled.request("POST", `/socket.io/?EIO=4&transport=polling&sid=${encodeURIComponent(sessions[0])}`, "40", 10_000),
      ]);
      const elapsed = Date.now() - started;
      const failures = answers.filter((answer) => answer.status === "rejected").map((answer) => String(answer.reason));
      assert.deepEqual(failures, [], `requests without an answer (after ${elapsed} ms)`);
      const statuses = answers.map((answer) => (answer.status === "fulfilled" ? answer.value.status : 0));
      assert.ok(
        statuses.every((status) => status === 503),
        `statuses: ${statuses.join(" ")}`,
      );
      assert.ok(elapsed < 10_000, `answered in ${elapsed} ms`);
      pooled.close();

      // A new session from an address of the hung slot opens on the other worker.
      const fresh = await handshake(gateway.port, hungAddress);
      assert.equal(slotOfSessionId(fresh), 1);
      // /metrics answers, with the missing worker marked.
      const metrics = await httpRequest(gateway.port, "GET", "/metrics", { localAddress: healthyAddress });
      assert.equal(metrics.status, 200, metrics.body.toString());
      const samples = parsePrometheus(metrics.body.toString());
      assert.equal(valueOf(samples, "sio_gateway_worker_up", { worker: "0" }), 0);
      assert.equal(valueOf(samples, "sio_gateway_worker_up", { worker: "1" }), 1);

      // The held connection closes when the primary kills the worker: within 10 s of the hang.
      const heldOutcome = await onHeld;
      const closedAfter = Number(/after (\d+) ms/.exec(heldOutcome)?.[1] ?? Infinity);
      assert.match(heldOutcome, /connection closed/);
      assert.ok(closedAfter < 10_500, heldOutcome);
      held.close();

      // The primary kills it and a fresh worker takes slot 0 again.
      await waitUntil(async () => slotOfSessionId(await handshake(gateway.port, hungAddress)) === 0, "a replacement worker serves slot 0", 20_000, 200);
      assert.ok(!gateway.workerPids().includes(stoppedPid), "the stopped worker is gone");
      probe.close();
    } finally {
      if (stoppedPid !== undefined) {
        try {
          process.kill(stoppedPid, "SIGCONT");
        } catch {
          // already gone: what the test expects
        }
      }
      assert.equal((await gateway.stop()).code, 0);
    }
  });
});
