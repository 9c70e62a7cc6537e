/**
 * A worker at its open-file limit: Node's hand-off of a socket fails on the worker's side
 * (NODE_HANDLE_NACK). The client must get an answer (503) instead of hanging, the primary must
 * not keep the descriptor, and the operator must be told the likely cause once, not per client.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { connect, type Socket } from "node:net";
import { describe, it } from "node:test";
import { loopbackAddress } from "../helpers/clients.js";
import { httpRequest, type RawResponse } from "../helpers/engine-raw.js";
import { GatewayProcess } from "../helpers/gateway-process.js";
import { parsePrometheus, valueOf } from "../helpers/prometheus.js";
import { waitFor, waitUntil } from "../helpers/wait.js";

/** How many connections the test opens past the worker's lowered limit. */
const OVER_THE_LIMIT = 40;

describe("a worker at its open-file limit", () => {
  it("connections it cannot take get 503 from the primary, one warning names the limit, the gateway serves again once sockets close", async () => {
    // Head limits far away: the idle connections stay with the worker until the test closes them.
    const gateway = await GatewayProcess.start(["--workers", "1", "--max-conns-per-ip", "0", "--header-timeout", "60000"]);
    const idle: Socket[] = [];
    try {
      const [worker] = gateway.workerPids();
      const open = readdirSync(`/proc/${worker}/fd`).length;
      // Room for 30 more descriptors in the worker only (prlimit on the running process; the primary keeps its own limit).
      execFileSync("prlimit", [`--pid=${worker}`, `--nofile=${open + 30}:${open + 30}`]);
      const answers: string[] = [];
      for (let i = 0; i < 30 + OVER_THE_LIMIT; i++) {
        const socket = connect({ host: "127.0.0.1", port: gateway.port, localAddress: loopbackAddress(100 + i) });
        socket.on("error", () => {});
        socket.on("data", (chunk: Buffer) => answers.push(chunk.toString("latin1")));
        await waitFor(socket, "connect");
        idle.push(socket);
      }
      await waitUntil(() => answers.filter((answer) => answer.startsWith("HTTP/1.1 503")).length > 0, "a connection past the limit is answered 503");
      assert.match(
        answers.find((answer) => answer.startsWith("HTTP/1.1 503"))!,
        /could not take the connection/,
      );
      await waitUntil(() => gateway.stderr.includes("open-file limit"), "the primary names the likely cause");
      assert.equal(gateway.stderr.split("\n").filter((line) => line.includes("open-file limit")).length, 1, "one warning, not one per connection");

      for (const socket of idle) socket.destroy();
      // The worker frees its descriptors as the closes arrive: a new request is served again.
      let metrics: RawResponse | undefined;
      await waitUntil(async () => {
        metrics = await httpRequest(gateway.port, "GET", "/metrics", { localAddress: loopbackAddress(99) }).catch(() => metrics);
        return metrics?.status === 200;
      }, "the gateway serves again");
      const samples = parsePrometheus(metrics!.body.toString());
      assert.ok(valueOf(samples, "sio_gateway_primary_rejected_total", { reason: "worker-not-received" }) >= 1);
      assert.equal(valueOf(samples, "sio_gateway_primary_pending_handoffs"), 0);
    } finally {
      for (const socket of idle) socket.destroy();
      assert.equal((await gateway.stop()).code, 0);
    }
  });
});
