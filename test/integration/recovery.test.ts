/**
 * Connection-state recovery that survives its worker (adapter/recovery/): in Redis mode and
 * single-machine mode, 2 workers, receivers on both workers and a sender chatting every 20 ms
 * through the demo app (which turns recovery on and acknowledges a chat once it is in the log).
 * Whatever happens to the workers, every acknowledged message reaches every receiver exactly
 * once and in order, and moved clients come back recovered, in their rooms, without a re-join.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { ChatRun } from "../helpers/chat-run.js";
import { clientsPerWorker, connectClient, loopbackAddress, request, type TestClient } from "../helpers/clients.js";
import { GatewayProcess } from "../helpers/gateway-process.js";
import { RedisServer } from "../helpers/redis-server.js";
import { waitFor, waitUntil } from "../helpers/wait.js";

const ROOM = "recovery-room";

interface Mode {
  name: string;
  flags(): string[];
}

let redis: RedisServer | undefined;
const MODES: Mode[] = [
  { name: "single-machine mode", flags: () => [] },
  { name: "Redis mode", flags: () => ["--redis", redis!.url] },
];

/** Receivers on both workers (2 each, WebSocket and polling) and a sender; all joined to the room. */
async function setUp(gateway: GatewayProcess, offset: number): Promise<{ sender: TestClient; receivers: TestClient[] }> {
  const receivers = [
    ...(await clientsPerWorker(gateway.url, 2, 1, { transports: ["websocket"] }, offset)),
    ...(await clientsPerWorker(gateway.url, 2, 1, { transports: ["polling"] }, offset + 50)),
  ];
  const sender = await connectClient(gateway.url, { localAddress: loopbackAddress(offset + 100), transports: ["websocket"] });
  for (const client of [...receivers, sender]) assert.equal((await request<{ ok: boolean }>(client.socket, "join", ROOM)).ok, true);
  return { sender, receivers };
}

/** Rooms each receiver is in now, as its worker sees it (whoami): the room must be there with no re-join. */
async function assertStillInRoom(receivers: TestClient[]): Promise<void> {
  for (const client of receivers) {
    const who = await request<{ rooms: string[] }>(client.socket, "whoami");
    assert.deepEqual(who.rooms, [ROOM]);
  }
}

describe("connection-state recovery", () => {
  before(async () => {
    redis = await RedisServer.start();
  });
  after(async () => {
    await redis?.stop();
  });

  for (const mode of MODES) {
    describe(mode.name, () => {
      it("kill -9 of a worker holding receivers: acknowledged messages arrive exactly once, in order; its clients recover", async () => {
        const gateway = await GatewayProcess.start(["--workers", "2", ...mode.flags()]);
        const { sender, receivers } = await setUp(gateway, 0);
        try {
          const run = new ChatRun(sender, receivers, ROOM);
          run.start(20);
          await waitUntil(() => run.ackedCount >= 20, "20 messages acknowledged before the kill");
          const victim = receivers.find((client) => client.hello.worker === 0)!;
          const moved = receivers.filter((client) => client.hello.worker === 0);
          process.kill(victim.hello.pid, "SIGKILL");
          await Promise.all(moved.map((client) => waitFor(client.socket, "connect", 15_000)));
          const ackedAtReconnect = run.ackedCount;
          await waitUntil(() => run.ackedCount >= ackedAtReconnect + 20, "20 more messages acknowledged after the reconnection");
          await run.finish();
          run.assertExactlyOnceInOrder();
          for (const log of run.receivers.filter((log) => moved.includes(log.client))) assert.deepEqual(log.reconnections, [true], "moved clients recovered");
          await assertStillInRoom(receivers);
        } finally {
          for (const client of [...receivers, sender]) client.close();
          await gateway.stop();
        }
      });

      it("SIGHUP rolling restart: nothing acknowledged is lost or repeated; every client recovers", async () => {
        const gateway = await GatewayProcess.start(["--workers", "2", ...mode.flags()]);
        const { sender, receivers } = await setUp(gateway, 200);
        try {
          const run = new ChatRun(sender, receivers, ROOM);
          const before = gateway.workerPids();
          run.start(20);
          await waitUntil(() => run.ackedCount >= 20, "20 messages acknowledged before the restart");
          process.kill(gateway.child.pid!, "SIGHUP");
          await waitUntil(
            () => gateway.workerPids().every((pid) => !before.includes(pid)) && gateway.workerPids().length === 2,
            "both workers replaced",
            30_000,
          );
          await waitUntil(() => run.receivers.every((log) => log.reconnections.length > 0) && sender.socket.connected, "every client reconnected", 15_000);
          const ackedAfter = run.ackedCount;
          await waitUntil(() => run.ackedCount >= ackedAfter + 20, "20 more messages acknowledged after the restart");
          await run.finish();
          run.assertExactlyOnceInOrder();
          for (const log of run.receivers) assert.ok(log.reconnections.every(Boolean), `reconnections recovered: ${log.reconnections.join(",")}`);
          await assertStillInRoom(receivers);
        } finally {
          for (const client of [...receivers, sender]) client.close();
          await gateway.stop();
        }
      });
    });
  }
});
