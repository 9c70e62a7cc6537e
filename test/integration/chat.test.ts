/**
 * The demo app across workers: rooms, chat and member counts reach the whole cluster, in
 * Redis mode (private redis-server) and in single-machine mode (IPC through the primary).
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { Socket } from "socket.io-client";
import { clientsPerWorker, request, type TestClient } from "../helpers/clients.js";
import { KOREAN_TEXT } from "../helpers/fixtures.js";
import { GatewayProcess } from "../helpers/gateway-process.js";
import { RedisServer } from "../helpers/redis-server.js";
import { waitFor } from "../helpers/wait.js";

interface ChatMessage {
  room: string;
  text: string;
  from: string;
  worker: number;
  at: number;
}

function nextChat(socket: Socket): Promise<ChatMessage> {
  return waitFor<[ChatMessage]>(socket, "chat").then(([message]) => message);
}

for (const mode of ["redis", "cluster"] as const) {
  for (const workers of [2, 3]) {
    describe(`demo app, ${workers} workers, adapter=${mode}`, () => {
      let redis: RedisServer | undefined;
      let gateway: GatewayProcess;
      let clients: TestClient[] = [];

      before(async () => {
        redis = mode === "redis" ? await RedisServer.start() : undefined;
        gateway = await GatewayProcess.start(["--workers", String(workers), ...(redis ? ["--redis", redis.url] : [])]);
        assert.match(gateway.stdout, new RegExp(`\\(${workers} workers, adapter=${mode}\\)`));
        clients = await clientsPerWorker(gateway.url, workers, 2);
      });
      after(async () => {
        for (const client of clients) client.close();
        const result = await gateway.stop();
        await redis?.stop();
        assert.equal(result.code, 0, result.stderr);
      });

      it("says hello with the worker, and whoami agrees", async () => {
        const workersSeen = new Set(clients.map((client) => client.hello.worker));
        assert.equal(workersSeen.size, workers);
        const me = await request<{ worker: number; pid: number; id: string; rooms: string[] }>(clients[0].socket, "whoami");
        assert.deepEqual(me, { worker: clients[0].hello.worker, pid: clients[0].hello.pid, id: clients[0].socket.id, rooms: [] });
      });

      it("join counts members across the cluster; a chat reaches every member on every worker, the sender too, and nobody else", async () => {
        const room = `room-${mode}-${workers}`;
        const members = clients.slice(0, -1);
        const outsider = clients[clients.length - 1];
        for (const [index, client] of members.entries()) {
          const joined = await request<{ ok: boolean; room: string; members: number }>(client.socket, "join", room);
          assert.deepEqual(joined, { ok: true, room, members: index + 1 });
        }
        let outsiderGotIt = false;
        outsider.socket.on("chat", () => (outsiderGotIt = true));
        const arrivals = members.map((client) => nextChat(client.socket));
        const sender = members[members.length - 1];
        assert.deepEqual(await request(sender.socket, "chat", { room, text: KOREAN_TEXT }), { ok: true });
        for (const message of await Promise.all(arrivals)) {
          assert.equal(message.text, KOREAN_TEXT);
          assert.equal(message.room, room);
          assert.equal(message.from, sender.socket.id);
          assert.equal(message.worker, sender.hello.worker);
          assert.equal(typeof message.at, "number");
        }
        // The outsider shares a worker or the adapter with the members: a whoami round trip after the chat orders it.
        await request(outsider.socket, "whoami");
        assert.equal(outsiderGotIt, false);

        assert.deepEqual(await request(members[0].socket, "leave", room), { ok: true, room });
        const rejoined = await request<{ members: number }>(outsider.socket, "join", room);
        assert.equal(rejoined.members, members.length);
      });

      it("refuses bad input with ok:false, broadcasts nothing, and keeps the connection", async () => {
        const [client, other] = clients;
        await request(other.socket, "join", "valid");
        let leaked = false;
        other.socket.on("chat", () => (leaked = true));
        const bad: [string, unknown][] = [
          ["join", ""],
          ["join", "x".repeat(65)],
          ["join", 42],
          ["leave", { room: "x" }],
          ["chat", { room: "valid", text: "x".repeat(4097) }],
          ["chat", { room: "valid", text: 5 }],
          ["chat", { room: "", text: "hi" }],
          ["chat", "not an object"],
        ];
        for (const [event, payload] of bad) {
          const answer = await request<{ ok: boolean; error: string }>(client.socket, event, payload);
          assert.equal(answer.ok, false, `${event} ${JSON.stringify(payload)}`);
          assert.equal(typeof answer.error, "string");
        }
        await request(other.socket, "whoami");
        assert.equal(leaked, false);
        assert.ok(client.socket.connected);
      });
    });
  }
}
