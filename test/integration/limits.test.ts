/**
 * The primary's per-IP connection limit, the per-socket event rate limit, and direct worker
 * ports (--worker-port-base).
 */
import assert from "node:assert/strict";
import { connect, type Socket } from "node:net";
import { describe, it } from "node:test";
import { connectClient, loopbackAddress, request } from "../helpers/clients.js";
import { httpRequest } from "../helpers/engine-raw.js";
import { ECHO_APP } from "../helpers/fixtures.js";
import { GatewayProcess } from "../helpers/gateway-process.js";
import { freePortRange } from "../helpers/ports.js";
import { waitFor, waitUntil } from "../helpers/wait.js";

/** A keep-alive connection that made one request and got its answer: it stays open, owned by a worker. */
async function openKeepAlive(port: number, localAddress: string): Promise<{ socket: Socket; status: number }> {
  const socket = connect({ host: "127.0.0.1", port, localAddress });
  await waitFor(socket, "connect");
  socket.write("GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: keep-alive\r\n\r\n");
  const [chunk] = await waitFor<[Buffer]>(socket, "data");
  return { socket, status: Number(/^HTTP\/1\.1 (\d{3})/.exec(chunk.toString("latin1"))?.[1]) };
}

describe("limits", () => {
  it("refuses connections over --max-conns-per-ip with 429, serves other IPs, and frees the slot when one closes", async () => {
    const gateway = await GatewayProcess.start(["--workers", "2", "--max-conns-per-ip", "3"]);
    const open: Socket[] = [];
    try {
      const crowded = loopbackAddress(20);
      for (let i = 0; i < 3; i++) {
        const connection = await openKeepAlive(gateway.port, crowded);
        open.push(connection.socket);
        assert.equal(connection.status, 200);
      }
      const refused = await openKeepAlive(gateway.port, crowded);
      open.push(refused.socket);
      assert.equal(refused.status, 429);
      assert.equal((await httpRequest(gateway.port, "GET", "/healthz", { localAddress: loopbackAddress(21) })).status, 200);

      const closed = waitFor(open[0], "close");
      open[0].destroy();
      await closed;
      // The worker reports the close to the primary over IPC; no event reaches the test, so poll.
      await waitUntil(
        async () => (await openKeepAlive(gateway.port, crowded).then((c) => (open.push(c.socket), c.status))) === 200,
        "a connection from the crowded IP is accepted again",
      );
    } finally {
      for (const socket of open) socket.destroy();
      assert.equal((await gateway.stop()).code, 0);
    }
  });

  it("drops events over --rate-limit without calling their acks, tells the client with its own event at most once a second, and keeps the connection", async () => {
    const gateway = await GatewayProcess.start(["--workers", "1", "--app", ECHO_APP, "--rate-limit", "5"]);
    const client = await connectClient(gateway.url, { localAddress: loopbackAddress(30), transports: ["websocket"] });
    try {
      const notices: unknown[] = [];
      client.socket.on("sio-gateway:rate-limited", (notice: unknown) => notices.push(notice));
      const started = Date.now();
      // 20 at once against 5/s (burst 5): a refused event's ack is never called, so it times out.
      const answers = await Promise.allSettled(Array.from({ length: 20 }, (_, i) => client.socket.timeout(2_000).emitWithAck("echo", i)));
      const elapsed = Date.now() - started;
      const answered = answers.filter((answer) => answer.status === "fulfilled").map((answer) => answer.value as number);
      const timedOut = answers.filter((answer) => answer.status === "rejected");
      assert.ok(answered.length >= 5 && answered.length <= 15, `answered ${answered.length} of 20 at 5/s (burst 5, plus refill)`);
      assert.equal(answered.length + timedOut.length, 20);
      // The answers that came are the app's own (the echo), never a gateway payload.
      assert.ok(
        answered.every((value) => typeof value === "number"),
        `answers: ${JSON.stringify(answered)}`,
      );
      assert.ok(notices.length >= 1, "the client is told that events were refused");
      assert.ok(notices.length <= Math.ceil(elapsed / 1000) + 1, `${notices.length} notices in ${elapsed} ms: at most one a second`);
      for (const notice of notices) assert.deepEqual(notice, { event: "echo", limit: 5 });
      assert.ok(client.socket.connected);
      assert.equal(await request<string>(client.socket, "echo", "after the flood"), "after the flood");
    } finally {
      client.close();
      assert.equal((await gateway.stop()).code, 0);
    }
  });

  it("serves each worker on --worker-port-base + index as well as on the public port", async () => {
    const base = await freePortRange(2);
    const gateway = await GatewayProcess.start(["--workers", "2", "--worker-port-base", String(base)]);
    try {
      for (const index of [0, 1]) {
        const health = await httpRequest(base + index, "GET", "/healthz");
        assert.deepEqual(JSON.parse(health.body.toString()), { status: "ok", worker: index });
        const client = await connectClient(`http://127.0.0.1:${base + index}`, { localAddress: loopbackAddress(40) });
        assert.equal(client.hello.worker, index);
        client.close();
      }
    } finally {
      assert.equal((await gateway.stop()).code, 0);
    }
  });
});
