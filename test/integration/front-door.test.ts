/**
 * The primary's front door under hostile load (issue 18): the per-IP limit counts from accept,
 * Engine.IO sessions per IP are bounded by the same limit, connections still sending their
 * head are capped cluster-wide, and forwarding headers from an untrusted peer are reported.
 */
import assert from "node:assert/strict";
import { connect, type Socket } from "node:net";
import { describe, it } from "node:test";
import { loopbackAddress } from "../helpers/clients.js";
import { httpRequest, sendInPieces } from "../helpers/engine-raw.js";
import { ECHO_APP } from "../helpers/fixtures.js";
import { GatewayProcess } from "../helpers/gateway-process.js";
import { KeepAliveConnection } from "../helpers/keep-alive.js";
import { parsePrometheus, valueOf } from "../helpers/prometheus.js";
import { waitFor, waitUntil } from "../helpers/wait.js";

/** Opens a connection and sends one keep-alive request; resolves with the status of the first answer (the socket stays open). */
async function keepAliveStatus(port: number, localAddress: string): Promise<{ socket: Socket; status: number }> {
  const socket = connect({ host: "127.0.0.1", port, localAddress });
  socket.on("error", () => {});
  await waitFor(socket, "connect");
  socket.write("GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: keep-alive\r\n\r\n");
  const [chunk] = await waitFor<[Buffer]>(socket, "data");
  return { socket, status: Number(/^HTTP\/1\.1 (\d{3})/.exec(chunk.toString("latin1"))?.[1]) };
}

describe("the front door holds", () => {
  it("1. 50 connections opened together against --max-conns-per-ip 5: 5 accepted, 45 refused with 429", async () => {
    const gateway = await GatewayProcess.start(["--workers", "2", "--max-conns-per-ip", "5"]);
    const open: Socket[] = [];
    try {
      const results = await Promise.all(Array.from({ length: 50 }, () => keepAliveStatus(gateway.port, loopbackAddress(40))));
      for (const result of results) open.push(result.socket);
      const statuses = results.map((result) => result.status);
      assert.equal(statuses.filter((status) => status === 200).length, 5, `statuses: ${statuses.join(" ")}`);
      assert.equal(statuses.filter((status) => status === 429).length, 45);
      // Another address is not affected.
      assert.equal((await httpRequest(gateway.port, "GET", "/healthz", { localAddress: loopbackAddress(41) })).status, 200);
    } finally {
      for (const socket of open) socket.destroy();
      assert.equal((await gateway.stop()).code, 0);
    }
  });

  it("1. 1,000 handshakes over 4 keep-alive connections against a limit of 100: at most 100 sessions, the rest 429", async () => {
    const gateway = await GatewayProcess.start(["--workers", "2", "--app", ECHO_APP, "--max-conns-per-ip", "100"]);
    const connections = await Promise.all(Array.from({ length: 4 }, () => KeepAliveConnection.open(gateway.port, loopbackAddress(42))));
    try {
      const statuses = await Promise.all(
        connections.map(async (connection) => {
          const seen: number[] = [];
          for (let i = 0; i < 250; i++) seen.push((await connection.request("GET", "/socket.io/?EIO=4&transport=polling")).status);
          return seen;
        }),
      );
      const all = statuses.flat();
      const opened = all.filter((status) => status === 200).length;
      assert.equal(opened, 100, `sessions opened: ${opened}`);
      assert.equal(all.filter((status) => status === 429).length, 900);
      // Other addresses still open sessions.
      assert.equal((await httpRequest(gateway.port, "GET", "/socket.io/?EIO=4&transport=polling", { localAddress: loopbackAddress(43) })).status, 200);
    } finally {
      for (const connection of connections) connection.close();
      assert.equal((await gateway.stop()).code, 0);
    }
  });

  it("1. --max-pending-heads caps connections still sending their head: the rest get 503, counted and shown as a gauge", async () => {
    const gateway = await GatewayProcess.start(["--workers", "1", "--max-pending-heads", "10", "--header-timeout", "20000"]);
    const idle: Socket[] = [];
    try {
      // Ten connections that send half a request line hold every place; each from its own address (the per-IP limit is not the point).
      for (let i = 0; i < 10; i++) {
        const socket = connect({ host: "127.0.0.1", port: gateway.port, localAddress: loopbackAddress(50 + i) });
        socket.on("error", () => {});
        await waitFor(socket, "connect");
        socket.write("GET /heal");
        idle.push(socket);
      }
      // The primary accepts in order: once a connection past the cap is refused, the ten are all held.
      const refused = await httpRequest(gateway.port, "GET", "/healthz", { localAddress: loopbackAddress(70) });
      assert.equal(refused.status, 503, refused.body.toString());
      assert.match(refused.body.toString(), /too many connections waiting/);
      for (const socket of idle) socket.destroy();
      await Promise.all(idle.filter((socket) => !socket.closed).map((socket) => waitFor(socket, "close")));

      // The primary sees the ten closes a moment after the test does: no event reaches the test, so poll.
      let metrics = await httpRequest(gateway.port, "GET", "/metrics", { localAddress: loopbackAddress(71) });
      await waitUntil(async () => {
        metrics = await httpRequest(gateway.port, "GET", "/metrics", { localAddress: loopbackAddress(71) });
        return metrics.status === 200;
      }, "a new connection is served again");
      const samples = parsePrometheus(metrics.body.toString());
      assert.equal(valueOf(samples, "sio_gateway_primary_rejected_total", { reason: "pending-heads" }) >= 1, true);
      assert.equal(valueOf(samples, "sio_gateway_primary_pending_heads"), 0);
    } finally {
      for (const socket of idle) socket.destroy();
      assert.equal((await gateway.stop()).code, 0);
    }
  });

  it("5. a direct client's connection is handed over on accept: its worker enforces the head limits (408, 431, 400), counted by reason", async () => {
    const gateway = await GatewayProcess.start(["--workers", "2", "--header-timeout", "500"]);
    try {
      const silent = await sendInPieces(gateway.port, [], { localAddress: loopbackAddress(80) });
      assert.match(silent.toString("latin1"), /^HTTP\/1\.1 408 /);
      const trickled = await sendInPieces(gateway.port, [Buffer.from("GET /hea")], { localAddress: loopbackAddress(81) });
      assert.match(trickled.toString("latin1"), /^HTTP\/1\.1 408 /);
      const huge = Buffer.from(`GET / HTTP/1.1\r\nX-Filler: ${"a".repeat(20_000)}\r\n\r\n`);
      assert.match((await sendInPieces(gateway.port, [huge], { localAddress: loopbackAddress(82) })).toString("latin1"), /^HTTP\/1\.1 431 /);
      const garbage = Buffer.from([0x16, 0x03, 0x01, 0xff, 0x00, 0x13, 0x37]);
      assert.match((await sendInPieces(gateway.port, [garbage], { localAddress: loopbackAddress(83) })).toString("latin1"), /^HTTP\/1\.1 400 /);
      // The workers report their refusals to the primary once per loop turn: poll until all four are counted.
      let samples = parsePrometheus("");
      await waitUntil(async () => {
        samples = parsePrometheus((await httpRequest(gateway.port, "GET", "/metrics", { localAddress: loopbackAddress(84) })).body.toString());
        return valueOf(samples, "sio_gateway_primary_rejected_total", { reason: "bad-request" }) === 1;
      }, "the refusals are counted");
      assert.equal(valueOf(samples, "sio_gateway_primary_rejected_total", { reason: "header-timeout" }), 2);
      assert.equal(valueOf(samples, "sio_gateway_primary_rejected_total", { reason: "header-size" }), 1);
      assert.equal((await httpRequest(gateway.port, "GET", "/healthz", { localAddress: loopbackAddress(80) })).status, 200);
    } finally {
      assert.equal((await gateway.stop()).code, 0);
    }
  });

  it("8. forwarding headers from a peer not in --trust-proxy: one warning, then counted; routing ignores them", async () => {
    const gateway = await GatewayProcess.start(["--workers", "2"]);
    try {
      for (let i = 0; i < 3; i++) {
        const response = await httpRequest(gateway.port, "GET", "/healthz", { headers: { "X-Forwarded-For": `203.0.113.${i}` } });
        assert.equal(response.status, 200);
      }
      const metrics = await httpRequest(gateway.port, "GET", "/metrics");
      assert.equal(valueOf(parsePrometheus(metrics.body.toString()), "sio_gateway_primary_untrusted_forwarded_total"), 3);
      const warnings = gateway.stderr.split("\n").filter((line) => line.includes("not in --trust-proxy"));
      assert.equal(warnings.length, 1, gateway.stderr);
    } finally {
      assert.equal((await gateway.stop()).code, 0);
    }
  });
});
