/**
 * `--admin-port` (issue 18): `/metrics`, `/admin-ui` with its /admin namespace, and `POST /emit`
 * move to a listener of their own (on 127.0.0.1 unless `--admin-host` says otherwise); the
 * public port and the worker ports answer 404 for them, whatever sits in front.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { io as connectNamespace } from "socket.io-client";
import { connectClient, loopbackAddress } from "../helpers/clients.js";
import { httpRequest } from "../helpers/engine-raw.js";
import { ECHO_APP } from "../helpers/fixtures.js";
import { GatewayProcess } from "../helpers/gateway-process.js";
import { freePort, freePortRange } from "../helpers/ports.js";
import { waitFor } from "../helpers/wait.js";

const TOKEN = "admin-port-token";
const CREDENTIALS = { username: "admin", password: "correct-horse-battery" };

describe("--admin-port", () => {
  it("7. serves /metrics, /admin-ui, /admin and POST /emit on the admin port only; the public and worker ports answer 404", async () => {
    const adminPort = await freePort();
    const workerPortBase = await freePortRange(2);
    const gateway = await GatewayProcess.start([
      "--workers",
      "2",
      "--app",
      ECHO_APP,
      "--emit-token",
      TOKEN,
      "--admin-ui",
      `${CREDENTIALS.username}:${CREDENTIALS.password}`,
      "--admin-port",
      String(adminPort),
      "--worker-port-base",
      String(workerPortBase),
    ]);
    const client = await connectClient(gateway.url, { localAddress: loopbackAddress(150) });
    try {
      const emitBody = JSON.stringify({ event: "news", data: "from the admin port" });
      const emitHeaders = { Authorization: `Bearer ${TOKEN}`, "Content-Type": "application/json" };
      for (const port of [gateway.port, workerPortBase, workerPortBase + 1]) {
        for (const path of ["/metrics", "/admin-ui/"]) assert.equal((await httpRequest(port, "GET", path)).status, 404, `${path} on ${port}`);
        assert.equal((await httpRequest(port, "POST", "/emit", { body: emitBody, headers: emitHeaders })).status, 404, `/emit on ${port}`);
        assert.equal((await httpRequest(port, "GET", "/healthz")).status, 200, `/healthz on ${port}`);
      }
      const outside = connectNamespace(`${gateway.url}/admin`, { auth: CREDENTIALS, transports: ["websocket"], reconnection: false, forceNew: true });
      const [refusal] = await waitFor<[Error]>(outside, "connect_error");
      assert.match(refusal.message, /admin port/);
      outside.close();

      const admin = `http://127.0.0.1:${adminPort}`;
      const metrics = await httpRequest(adminPort, "GET", "/metrics");
      assert.equal(metrics.status, 200);
      assert.match(metrics.body.toString(), /^sio_gateway_workers 2$/m);
      assert.equal((await httpRequest(adminPort, "GET", "/admin-ui/")).status, 200);
      const news = waitFor<[string]>(client.socket, "news");
      assert.equal((await httpRequest(adminPort, "POST", "/emit", { body: emitBody, headers: emitHeaders })).status, 202);
      assert.equal((await news)[0], "from the admin port");
      const inside = connectNamespace(`${admin}/admin`, { auth: CREDENTIALS, transports: ["polling"], reconnection: false, forceNew: true });
      await waitFor(inside, "connect");
      inside.close();
    } finally {
      client.close();
      assert.equal((await gateway.stop()).code, 0);
    }
  });
});
