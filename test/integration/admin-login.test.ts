/**
 * An admin UI login flood does not stall the worker (issue 18): one WebSocket sending wrong
 * passwords to /admin at 50 per second for 5 s. Failed logins are limited per IP (10 a minute,
 * then refused without a check) and per connection (closed after 3), and the check itself is a
 * constant-time digest compare, not bcrypt on the event loop (which froze the worker 13–18 s).
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Manager } from "socket.io-client";
import { connectClient, loopbackAddress, request } from "../helpers/clients.js";
import { httpRequest } from "../helpers/engine-raw.js";
import { ECHO_APP } from "../helpers/fixtures.js";
import { GatewayProcess } from "../helpers/gateway-process.js";
import { parsePrometheus, valueOf } from "../helpers/prometheus.js";
import { waitFor } from "../helpers/wait.js";

const FLOOD_MS = 5000;
const ATTEMPT_INTERVAL = 20;

describe("admin UI login flood", () => {
  it("4. 5 s of wrong admin passwords at 50/s: other sockets answered throughout, 10 checks per IP, then refusals; the admin still logs in", async (t) => {
    const gateway = await GatewayProcess.start(["--workers", "1", "--app", ECHO_APP, "--admin-ui", "admin:correct-horse-battery"]);
    const bystander = await connectClient(gateway.url, { localAddress: loopbackAddress(140), transports: ["websocket"] });
    const attacker = new Manager(gateway.url, { transports: ["websocket"], reconnection: false, forceNew: true, localAddress: loopbackAddress(141) } as never);
    const intruder = attacker.socket("/admin", { auth: { username: "admin", password: "wrong-password" } });
    let refusals = 0;
    intruder.on("connect_error", () => refusals++);
    try {
      const started = Date.now();
      const flood = (async () => {
        for (let attempt = 0; Date.now() - started < FLOOD_MS && attempt < FLOOD_MS / ATTEMPT_INTERVAL; attempt++) {
          intruder.connect();
          await new Promise((resolve) => setTimeout(resolve, ATTEMPT_INTERVAL));
        }
      })();
      // The bystander's echo round trips, one after the other, all through the flood.
      const latencies: number[] = [];
      while (Date.now() - started < FLOOD_MS) {
        const sent = performance.now();
        assert.equal(await request<number>(bystander.socket, "echo", latencies.length), latencies.length);
        latencies.push(performance.now() - sent);
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
      await flood;
      const worst = Math.max(...latencies);
      t.diagnostic(`${latencies.length} echoes during the flood, slowest ${worst.toFixed(1)} ms; ${refusals} refusals seen by the attacker`);
      // 100 ms is the goal on a quiet machine; the bound here leaves room for a shared CI host (the old worker stalled for seconds).
      assert.ok(worst < 1000, `slowest echo ${worst.toFixed(1)} ms`);
      assert.ok(refusals > 10, `${refusals} refusals`);

      const metrics = parsePrometheus((await httpRequest(gateway.port, "GET", "/metrics", { localAddress: loopbackAddress(142) })).body.toString());
      assert.equal(valueOf(metrics, "sio_gateway_admin_logins_refused_total", { reason: "wrong-credentials" }), 10);
      assert.ok(valueOf(metrics, "sio_gateway_admin_logins_refused_total", { reason: "too-many-failures" }) > 0);

      // The right password from another address still logs in.
      const admin = new Manager(gateway.url, { transports: ["websocket"], reconnection: false, forceNew: true, localAddress: loopbackAddress(143) } as never);
      const session = admin.socket("/admin", { auth: { username: "admin", password: "correct-horse-battery" } });
      const [sessionId] = await waitFor<[string]>(session, "session");
      assert.match(sessionId, /^[0-9a-f]{32}$/);
      admin.engine.close();
    } finally {
      intruder.disconnect();
      attacker.engine?.close();
      bystander.close();
      assert.equal((await gateway.stop()).code, 0);
    }
  });
});
