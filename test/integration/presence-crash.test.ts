/**
 * Presence survives a worker's death (issue 17): kill -9 the worker holding 50 of a room's 100
 * members; within the stated bound (PRESENCE_EXPIRY_BOUND, 10 s) the count reads 50 from the app
 * (every survivor's last `members` event), from HTTP (`GET /presence/:room`) and, with Redis, from
 * the emitter; the restarted worker's members count once. Redis and single-machine mode.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { GatewayEmitter } from "../../adapter/emitter/index.js";
import { PRESENCE_EXPIRY_BOUND } from "../../adapter/presence/timing.js";
import { slotForIp } from "../../gateway/routing.js";
import { clientsPerWorker, connectClient, loopbackAddress, request, type TestClient } from "../helpers/clients.js";
import { httpRequest } from "../helpers/engine-raw.js";
import { GatewayProcess } from "../helpers/gateway-process.js";
import { RedisServer } from "../helpers/redis-server.js";
import { waitUntil } from "../helpers/wait.js";

const TOKEN = "presence-test-token";
const ROOM = "crash";

/** The first loopback address from `offset` whose IP hash is `worker` (of 2). */
function addressOn(worker: number, offset: number): string {
  for (let n = offset; n < offset + 100; n++) if (slotForIp(loopbackAddress(n), 2) === worker) return loopbackAddress(n);
  throw new Error("no address for the worker");
}

for (const mode of ["redis", "cluster"] as const) {
  describe(`presence after kill -9, 2 workers, adapter=${mode}`, () => {
    let redis: RedisServer | undefined;
    let gateway: GatewayProcess;
    let emitter: GatewayEmitter | undefined;
    const clients: TestClient[] = [];

    before(async () => {
      redis = mode === "redis" ? await RedisServer.start() : undefined;
      gateway = await GatewayProcess.start(["--workers", "2", "--emit-token", TOKEN, ...(redis ? ["--redis", redis.url] : [])]);
      emitter = redis ? new GatewayEmitter({ redis: redis.url }) : undefined;
      clients.push(...(await clientsPerWorker(gateway.url, 2, 50, { transports: ["websocket"], reconnection: false })));
    });
    after(async () => {
      for (const client of clients) client.close();
      await emitter?.close();
      const result = await gateway.stop();
      await redis?.stop();
      assert.equal(result.code, 0, result.stderr);
    });

    /** The room as GET /presence answers it, asked through the surviving worker 1. */
    async function overHttp(limit = 0): Promise<{ count: number; members: { id: string; info: unknown }[] }> {
      const response = await httpRequest(gateway.port, "GET", `/presence/${ROOM}?limit=${limit}`, {
        localAddress: addressOn(1, 600),
        headers: { Authorization: `Bearer ${TOKEN}` },
      });
      assert.equal(response.status, 200, response.body.toString());
      return JSON.parse(response.body.toString()) as { count: number; members: { id: string; info: unknown }[] };
    }

    it("100 members on two workers; kill -9 the one holding 50: the app, HTTP and the emitter read 50 within the bound", async () => {
      const last = new Map<TestClient, number>();
      for (const client of clients)
        client.socket.on("members", (update: { room: string; members: number }) => update.room === ROOM && last.set(client, update.members));
      const acks = await Promise.all(clients.map((client) => request<{ ok: boolean }>(client.socket, "join", ROOM)));
      assert.ok(acks.every((ack) => ack.ok));
      await waitUntil(() => clients.every((client) => last.get(client) === 100), "every client's last members event says 100");
      const before = await overHttp(1000);
      assert.equal(before.count, 100);
      assert.deepEqual(new Set(before.members.map((member) => member.id)), new Set(clients.map((client) => client.socket.id)));
      // The public record is the app's choice (the demo's: a display name, none here), never the handshake.
      assert.ok(before.members.every((member) => JSON.stringify(member.info) === "{}"));
      if (emitter) assert.equal(await emitter.presence(ROOM).count(), 100);

      const victims = clients.filter((client) => client.hello.worker === 0);
      const survivors = clients.filter((client) => client.hello.worker === 1);
      assert.equal(victims.length, 50);
      const killedAt = performance.now();
      process.kill(victims[0].hello.pid, "SIGKILL");

      let readings = "";
      await waitUntil(
        async () => {
          const fromHttp = (await overHttp()).count;
          const fromEmitter = emitter ? await emitter.presence(ROOM).count() : 50;
          readings = `http ${fromHttp}, emitter ${fromEmitter}, app ${survivors.filter((client) => last.get(client) === 50).length} of 50 at 50`;
          return fromHttp === 50 && fromEmitter === 50 && survivors.every((client) => last.get(client) === 50);
        },
        `the count reads 50 everywhere (${readings})`,
        PRESENCE_EXPIRY_BOUND,
        100,
      );
      process.stdout.write(`# ${mode}: 50 everywhere ${Math.round(performance.now() - killedAt)} ms after kill -9\n`);
    });

    it("the restarted worker's members count once", async () => {
      const newcomer = await connectClient(gateway.url, { localAddress: addressOn(0, 700), transports: ["websocket"], reconnection: false }, 20_000);
      clients.push(newcomer);
      assert.equal(newcomer.hello.worker, 0);
      assert.deepEqual(await request(newcomer.socket, "join", ROOM), { ok: true, room: ROOM, members: 51 });
      const { count, members } = await overHttp(1000);
      assert.equal(count, 51);
      assert.equal(new Set(members.map((member) => member.id)).size, 51);
      if (emitter) assert.equal((await emitter.presence(ROOM).members({ limit: 1000 })).length, 51);
    });
  });
}
