/**
 * Redis Sentinel: the gateway and the emitter follow a fail-over of the Redis primary without a
 * restart (`--redis redis-sentinel://:password@…/mymaster`: servers and sentinels require it).
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { GatewayEmitter } from "../../adapter/emitter/index.js";
import { chatUntilItCrosses } from "../helpers/chat-run.js";
import { clientsPerWorker, request } from "../helpers/clients.js";
import { GatewayProcess } from "../helpers/gateway-process.js";
import { Inbox } from "../helpers/inbox.js";
import { RedisSentinelSet } from "../helpers/redis-sentinel-set.js";
import { waitUntil } from "../helpers/wait.js";

describe("Redis Sentinel", () => {
  it("rooms and broadcasts work across workers, and again after the sentinels fail over; the emitter too", async () => {
    const set = await RedisSentinelSet.start({ password: "sentinel s3cret" });
    const gateway = await GatewayProcess.start(["--workers", "2", "--redis", set.url()]);
    const clients = await clientsPerWorker(gateway.url, 2, 1);
    const emitter = new GatewayEmitter({ redis: set.url(), timeout: 2000 });
    try {
      for (const client of clients) await request(client.socket, "join", "sentinel");
      const [a, b] = clients.sort((x, y) => x.hello.worker - y.hello.worker);
      const inboxB = new Inbox(b.socket);
      await request(a.socket, "chat", { room: "sentinel", text: "before" });
      await inboxB.waitFor("chat");
      assert.equal(await emitter.to("sentinel").emit("news", 1), 2);

      const before = set.primaryPort;
      await set.killPrimary();
      await waitUntil(async () => (await set.currentPrimaryPort()) === set.replicaPort, "the sentinels promote the replica", 20_000, 200);
      assert.notEqual(await set.currentPrimaryPort(), before);

      // Nothing restarts: the workers' and the emitter's ioredis ask the sentinels for the new primary.
      await chatUntilItCrosses(a.socket, inboxB, "sentinel", "a chat crosses workers through the new primary", 20_000, 250);
      await waitUntil(
        async () =>
          (await emitter
            .to("sentinel")
            .emit("news", 2)
            .catch(() => 0)) === 2,
        "the emitter reaches both workers again",
        20_000,
        250,
      );
    } finally {
      await emitter.close();
      for (const client of clients) client.close();
      const result = await gateway.stop();
      await set.stop();
      assert.equal(result.code, 0, result.stderr);
    }
  });
});
