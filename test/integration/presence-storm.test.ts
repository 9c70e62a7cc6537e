/**
 * Presence under a join storm (issue 17): 1,000 socket.io clients, each from its own 127.x
 * source address, join one room of the demo app at once, on 2 workers, with Redis and in
 * single-machine mode. With `fetchSockets` counts, 922 of 1,000 joins timed out: every join asked
 * every worker for every member. With presence, every join acks ok, and every client's last
 * `members` event says 1,000.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { connectClient, loopbackAddress, request, type TestClient } from "../helpers/clients.js";
import { GatewayProcess } from "../helpers/gateway-process.js";
import { mapConcurrent } from "../helpers/pool.js";
import { RedisServer } from "../helpers/redis-server.js";
import { waitUntil } from "../helpers/wait.js";

const CLIENTS = 1000;
const ROOM = "storm";

interface Joined {
  ok: boolean;
  room: string;
  members: number;
  error?: string;
}

for (const mode of ["redis", "cluster"] as const) {
  describe(`presence join storm, 2 workers, adapter=${mode}`, () => {
    let redis: RedisServer | undefined;
    let gateway: GatewayProcess;
    const clients: TestClient[] = [];

    before(async () => {
      redis = mode === "redis" ? await RedisServer.start() : undefined;
      gateway = await GatewayProcess.start(["--workers", "2", ...(redis ? ["--redis", redis.url] : [])]);
      await mapConcurrent(CLIENTS, 50, async (index) => {
        clients.push(await connectClient(gateway.url, { localAddress: loopbackAddress(index), transports: ["websocket"], reconnection: false }, 30_000));
      });
    });
    after(async () => {
      for (const client of clients) client.close();
      const result = await gateway.stop();
      await redis?.stop();
      assert.equal(result.code, 0, result.stderr);
    });

    it(`${CLIENTS} clients from ${CLIENTS} addresses join one room at once: every ack ok, every client's last members is ${CLIENTS}`, async () => {
      assert.equal(new Set(clients.map((client) => client.hello.worker)).size, 2, "the clients must reach both workers");
      const last = new Map<TestClient, number>();
      for (const client of clients)
        client.socket.on("members", (update: { room: string; members: number }) => update.room === ROOM && last.set(client, update.members));

      const started = performance.now();
      const acks = await Promise.all(clients.map((client) => request<Joined>(client.socket, "join", ROOM)));
      const elapsed = performance.now() - started;

      const failed = acks.filter((ack) => !ack.ok);
      assert.deepEqual(failed.slice(0, 3), [], `${failed.length} of ${CLIENTS} joins failed`);
      // Each ack is the count right after that join: all distinct, 1 … 1,000.
      assert.deepEqual(
        acks.map((ack) => ack.members).sort((a, b) => a - b),
        Array.from({ length: CLIENTS }, (_, i) => i + 1),
      );
      await waitUntil(() => clients.every((client) => last.get(client) === CLIENTS), `every client's last members event says ${CLIENTS}`, 30_000);
      process.stdout.write(`# ${CLIENTS} joins acknowledged in ${Math.round(elapsed)} ms (${mode})\n`);
    });

    it("a leave and a disconnect reach every remaining member", async () => {
      const [leaver, quitter, ...rest] = clients;
      assert.deepEqual(await request(leaver.socket, "leave", ROOM), { ok: true, room: ROOM });
      quitter.close();
      const last = new Map<TestClient, number>();
      for (const client of rest)
        client.socket.on("members", (update: { room: string; members: number }) => update.room === ROOM && last.set(client, update.members));
      await waitUntil(
        () => rest.every((client) => last.get(client) === CLIENTS - 2),
        `every remaining client's last members event says ${CLIENTS - 2}`,
        30_000,
      );
    });
  });
}
