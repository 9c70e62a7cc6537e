/**
 * Connect storms: what broke hand-offs that read a socket with pause() (gateway/primary/read-stop.ts and head-reader.ts say why).
 * Hundreds of polling-first clients at once, keep-alive agents, POSTs with bodies; every client
 * must get its hello and an answer to an event with a payload, none an `xhr post error`.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { slotForIp } from "../../gateway/routing.js";
import { connectClient, loopbackAddress, request, type TestClient } from "../helpers/clients.js";
import { ECHO_APP, KOREAN_TEXT } from "../helpers/fixtures.js";
import { GatewayProcess } from "../helpers/gateway-process.js";
import { mapConcurrent } from "../helpers/pool.js";
import { httpRequest } from "../helpers/engine-raw.js";
import { parsePrometheus, valueOf } from "../helpers/prometheus.js";
import { waitUntil } from "../helpers/wait.js";

const CLIENTS = 600;
const CONCURRENCY = 50;
const ADDRESSES = 60;

describe("connect storm", () => {
  let gateway: GatewayProcess;

  before(async () => {
    gateway = await GatewayProcess.start(["--workers", "2", "--app", ECHO_APP, "--rate-limit", "0"]);
  });
  after(async () => {
    assert.equal((await gateway.stop()).code, 0, gateway.stderr);
  });

  for (const transports of [["polling", "websocket"], ["polling"]] as const) {
    it(`${CLIENTS} ${transports.join("+")} clients, ${CONCURRENCY} at a time: every one gets hello and its echo, on its IP's worker`, async () => {
      const clients: TestClient[] = [];
      const errors: string[] = [];
      try {
        await mapConcurrent(CLIENTS, CONCURRENCY, async (index) => {
          const localAddress = loopbackAddress(index % ADDRESSES);
          const client = await connectClient(gateway.url, { localAddress, transports: [...transports], reconnection: false }, 30_000);
          clients.push(client);
          client.socket.on("connect_error", (error) => errors.push(error.message));
          client.socket.io.engine.on("close", (reason) => errors.push(`closed: ${reason}`));
          assert.equal(client.hello.worker, slotForIp(localAddress, 2));
          const text = `${index}:${KOREAN_TEXT.slice(0, 300)}`;
          assert.equal(await request<string>(client.socket, "echo", text), text);
        });
        assert.equal(clients.length, CLIENTS);
        assert.deepEqual(errors, []);
        // Every hand-off reached its worker and the primary closed its copy (it hears Node's NODE_HANDLE_ACK: primary/handoffs.ts).
        await waitUntil(async () => {
          const metrics = await httpRequest(gateway.port, "GET", "/metrics", { localAddress: loopbackAddress(200) });
          return valueOf(parsePrometheus(metrics.body.toString()), "sio_gateway_primary_pending_handoffs") === 0;
        }, "the primary released its copies of the handed-over sockets");
      } finally {
        for (const client of clients) client.close();
      }
    });
  }
});
