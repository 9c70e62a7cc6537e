/**
 * The primary's per-IP connection limit, the per-socket event rate limit, and direct worker
 * ports (--worker-port-base).
 */
import assert from "node:assert/strict";
import { connect, type Socket } from "node:net";
import { describe, it } from "node:test";
import { connectClient, loopbackAddress, request } from "../helpers/clients.js";
import { httpRequest } from "../helpers/engine-raw.js";
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

  it("answers events over --rate-limit with ok:false, broadcasts none of them, and keeps the connection", async () => {
    const gateway = await GatewayProcess.start(["--workers", "1", "--rate-limit", "5"]);
    const client = await connectClient(gateway.url, { localAddress: loopbackAddress(30), transports: ["websocket"] });
    try {
      await request(client.socket, "join", "flood");
      let delivered = 0;
      client.socket.on("chat", () => delivered++);
      const answers = await Promise.all(
        Array.from({ length: 20 }, (_, i) => request<{ ok: boolean; error?: string }>(client.socket, "chat", { room: "flood", text: `${i}` })),
      );
      const accepted = answers.filter((answer) => answer.ok).length;
      const refused = answers.filter((answer) => !answer.ok);
      assert.ok(accepted >= 1 && accepted <= 6, `accepted ${accepted} of 20 at 5/s (the burst is 5, less the join)`);
      assert.ok(refused.every((answer) => answer.error === "rate limit exceeded"));
      await waitUntil(() => delivered === accepted, `the ${accepted} accepted chats are delivered`);
      assert.ok(client.socket.connected);
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
