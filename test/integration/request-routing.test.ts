/**
 * Routing guarantee 6 (shared/CONTRACT.md): routing holds per request, not per TCP connection.
 * Requests on one reused keep-alive connection (as pooling proxies send them) reach the worker
 * that owns their session, and a handshake reaches its client IP's worker whatever an earlier
 * request on that connection named. Real gateway, 2 workers, raw keep-alive connections.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { slotForIp } from "../../gateway/routing.js";
import { slotOfSessionId } from "../../gateway/session-id.js";
import { loopbackAddress } from "../helpers/clients.js";
import { handshake } from "../helpers/engine-raw.js";
import { ECHO_APP } from "../helpers/fixtures.js";
import { GatewayProcess } from "../helpers/gateway-process.js";
import { KeepAliveConnection } from "../helpers/keep-alive.js";
import { waitFor } from "../helpers/wait.js";

const WORKERS = 2;
const RS = "\x1e";

/** The first loopback address (from `start`) whose IP hash is `slot`. */
function addressOnSlot(slot: number, start = 10): string {
  for (let n = start; n < start + 100; n++) if (slotForIp(loopbackAddress(n), WORKERS) === slot) return loopbackAddress(n);
  throw new Error(`no address hashes to slot ${slot}`);
}

/** The `worker` field of a /healthz answer. */
const workerOf = (body: Buffer): number => (JSON.parse(body.toString()) as { worker: number }).worker;

const polling = (sid?: string): string => `/socket.io/?EIO=4&transport=polling${sid === undefined ? "" : `&sid=${encodeURIComponent(sid)}`}`;

describe("routing per request on keep-alive connections", () => {
  let gateway: GatewayProcess;
  const sessions: string[] = [];

  before(async () => {
    gateway = await GatewayProcess.start(["--workers", String(WORKERS), "--app", ECHO_APP]);
    // One session on each worker, opened from addresses that hash there.
    for (let slot = 0; slot < WORKERS; slot++) sessions.push(await handshake(gateway.port, addressOnSlot(slot)));
    assert.deepEqual(sessions.map(slotOfSessionId), [0, 1]);
  });
  after(async () => {
    const result = await gateway.stop();
    assert.equal(result.code, 0, result.stderr);
  });

  it("6. one keep-alive connection carries requests for sessions on both workers, every one answered 200", async () => {
    const connection = await KeepAliveConnection.open(gateway.port, addressOnSlot(0, 40));
    try {
      // Alternate between the two workers' sessions on the same connection: connect, then poll the CONNECT answer.
      for (const sid of [sessions[1], sessions[0]]) {
        const connect = await connection.request("POST", polling(sid), "40");
        assert.equal(connect.status, 200, `POST 40 to ${sid}: ${connect.body.toString()}`);
      }
      for (const sid of [sessions[0], sessions[1]]) {
        const poll = await connection.request("GET", polling(sid));
        assert.equal(poll.status, 200, `poll ${sid}: ${poll.body.toString()}`);
        assert.match(poll.body.toString(), /^40\{"sid":/);
      }
      for (let i = 0; i < 10; i++) {
        const sid = sessions[i % 2];
        const echo = await connection.request("POST", polling(sid), `42${i}["echo","x"]`);
        assert.equal(echo.status, 200, `echo ${i} to ${sid}: ${echo.body.toString()}`);
        const answer = await connection.request("GET", polling(sid));
        assert.equal(answer.status, 200);
        assert.equal(answer.body.toString().split(RS).at(-1), `43${i}["x"]`);
      }
    } finally {
      connection.close();
    }
  });

  it("6. a handshake after a request naming another slot lands on the client IP's slot", async () => {
    for (let slot = 0; slot < WORKERS; slot++) {
      const other = (slot + 1) % WORKERS;
      const connection = await KeepAliveConnection.open(gateway.port, addressOnSlot(slot, 60));
      try {
        // The first request names the other slot's session: the primary hands the connection there.
        const pinned = await connection.request("GET", `/healthz?sid=${encodeURIComponent(sessions[other])}`);
        assert.equal(workerOf(pinned.body), other);
        const opened = await connection.request("GET", polling());
        assert.equal(opened.status, 200, opened.body.toString());
        const { sid } = JSON.parse(opened.body.toString().slice(1)) as { sid: string };
        assert.equal(slotOfSessionId(sid), slot, `handshake from an address of slot ${slot} opened ${sid}`);
        const health = await connection.request("GET", "/healthz");
        assert.equal(workerOf(health.body), slot, "a plain request follows the IP, not the pinned worker");
      } finally {
        connection.close();
      }
    }
  });

  it("6. a WebSocket upgrade for another worker's session on a pinned keep-alive connection reaches its owner", async () => {
    const address = addressOnSlot(0, 80);
    // One raw connection that served a request for worker 0 first, then asks to upgrade a session of worker 1.
    const connection = await KeepAliveConnection.open(gateway.port, address);
    try {
      const first = await connection.request("GET", "/healthz");
      assert.equal(workerOf(first.body), 0);
      const other = await handshake(gateway.port, addressOnSlot(1, 90));
      const key = Buffer.from("0123456789abcdef").toString("base64");
      connection.socket.write(
        [
          `GET /socket.io/?EIO=4&transport=websocket&sid=${encodeURIComponent(other)} HTTP/1.1`,
          "Host: 127.0.0.1",
          "Connection: Upgrade",
          "Upgrade: websocket",
          "Sec-WebSocket-Version: 13",
          `Sec-WebSocket-Key: ${key}`,
          "",
          "",
        ].join("\r\n"),
      );
      const [reply] = await waitFor<[Buffer]>(connection.socket, "data");
      assert.match(reply.toString("latin1"), /^HTTP\/1\.1 101 /, reply.toString("latin1"));
    } finally {
      connection.close();
    }
  });
});
