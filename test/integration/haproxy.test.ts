/**
 * The HAProxy edge: generated configs pass `haproxy -c`; a real HAProxy in front of two gateway
 * nodes (sharing a private redis-server) by source address and by cookie; a stopped node is
 * marked down by the /readyz health check and new clients go to the other.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { slotOfSessionId } from "../../gateway/session-id.js";
import { generateHaproxyConfig } from "../../haproxy/index.js";
import { connectClient, request, type TestClient } from "../helpers/clients.js";
import { httpRequest } from "../helpers/engine-raw.js";
import { GatewayProcess, runCli } from "../helpers/gateway-process.js";
import { HaproxyServer, haproxyCheck } from "../helpers/haproxy-server.js";
import { Inbox } from "../helpers/inbox.js";
import { RedisServer } from "../helpers/redis-server.js";
import { waitUntil } from "../helpers/wait.js";

const CLIENT_IPS = Array.from({ length: 8 }, (_, k) => `127.0.${30 + k}.1`);
const STATS = "ops:stats-password";

describe("generated HAProxy configs pass haproxy -c", () => {
  it("source and cookie modes, with and without stats; bad input exits 2", async () => {
    const dir = mkdtempSync(join(tmpdir(), "sio-haproxy-c-"));
    try {
      for (const [index, options] of [
        { upstreams: ["127.0.0.1:3001", "127.0.0.1:3002"], full: true },
        { upstreams: ["127.0.0.1:3001", "[::1]:3002"], full: true, balance: "cookie" as const, stats: STATS, listen: 18090 },
      ].entries()) {
        const file = join(dir, `haproxy-${index}.cfg`);
        writeFileSync(file, generateHaproxyConfig(options));
        const result = haproxyCheck(file);
        assert.equal(result.code, 0, result.output);
      }
      const out = join(dir, "cli.cfg");
      assert.equal((await runCli(["haproxy", "--upstream", "127.0.0.1:3001", "--full", "--listen", "18091", "--out", out])).code, 0);
      assert.equal(haproxyCheck(out).code, 0);
      const bad = await runCli(["haproxy", "--upstream", "127.0.0.1:3001", "--balance", "random"]);
      assert.equal(bad.code, 2);
      assert.match(bad.stderr, /^sio-gateway: invalid option "balance": expected source or cookie, got "random"\n$/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

for (const balance of ["source", "cookie"] as const) {
  describe(`HAProxy (${balance}) in front of two gateway nodes`, () => {
    let redis: RedisServer;
    const nodes: GatewayProcess[] = [];
    let haproxy: HaproxyServer;
    let nodeOfPid: Map<number, number>;

    before(async () => {
      redis = await RedisServer.start();
      for (let i = 0; i < 2; i++)
        nodes.push(
          await GatewayProcess.start(["--workers", "2", "--redis", redis.url, "--trust-proxy", "127.0.0.1", "--cookie", "io", "--shutdown-timeout", "3000"]),
        );
      nodeOfPid = new Map(nodes.flatMap((node, index) => node.workerPids().map((pid) => [pid, index] as [number, number])));
      haproxy = await HaproxyServer.start({ upstreams: nodes.map((node) => `127.0.0.1:${node.port}`), balance, stats: STATS, checkInterval: 300 });
    });
    after(async () => {
      await haproxy?.stop();
      for (const node of nodes) await node.stop();
      await redis.stop();
    });

    it("connects clients on polling and WebSocket through it, on both nodes, and a chat crosses nodes", async () => {
      const clients: TestClient[] = [];
      try {
        // withCredentials: keep cookies as a browser does (HAProxy's node cookie in cookie mode).
        for (const [index, localAddress] of CLIENT_IPS.entries())
          clients.push(await connectClient(haproxy.url, { localAddress, transports: index % 2 ? ["websocket"] : ["polling"], withCredentials: true }));
        assert.deepEqual([...new Set(clients.map((client) => nodeOfPid.get(client.hello.pid)))].sort(), [0, 1]);
        for (const client of clients) await request(client.socket, "join", "edge");
        const inboxes = clients.map((client) => new Inbox(client.socket));
        await request(clients[0].socket, "chat", { room: "edge", text: "through haproxy" });
        for (const inbox of inboxes) await inbox.waitFor("chat");
      } finally {
        for (const client of clients) client.close();
      }
    });

    if (balance === "cookie") {
      it("keeps a client on its node and its worker when its address changes mid-session, by the cookies", async () => {
        const handshake = await httpRequest(haproxy.port, "GET", "/socket.io/?EIO=4&transport=polling", { localAddress: "127.0.40.1" });
        assert.equal(handshake.status, 200);
        const sid = (JSON.parse(handshake.body.toString().slice(1)) as { sid: string }).sid;
        const setCookies = ([] as string[]).concat(handshake.headers["set-cookie"] ?? []);
        const nodeCookie = setCookies.find((cookie) => cookie.startsWith("SIO_NODE="))?.split(";")[0];
        const sessionCookie = setCookies.find((cookie) => cookie.startsWith("io="))?.split(";")[0];
        assert.ok(nodeCookie && sessionCookie, `cookies set: ${setCookies.join(" | ")}`);
        const cookies = `${nodeCookie}; ${sessionCookie}`;

        // Round robin without the cookie would send every other request to the other node (400 there).
        const path = `/socket.io/?EIO=4&transport=polling&sid=${sid}`;
        assert.equal(
          (
            await httpRequest(haproxy.port, "POST", path, {
              localAddress: "127.0.41.1",
              body: "40",
              headers: { Cookie: cookies, "Content-Type": "text/plain" },
            })
          ).status,
          200,
        );
        const poll = await httpRequest(haproxy.port, "GET", path, { localAddress: "127.0.42.1", headers: { Cookie: cookies } });
        assert.equal(poll.status, 200, poll.body.toString());
        assert.match(poll.body.toString(), /^40\{"sid":/);

        // A new session from yet another address: the cookies bring it to the same node and worker.
        const again = await httpRequest(haproxy.port, "GET", "/socket.io/?EIO=4&transport=polling", {
          localAddress: "127.0.47.1",
          headers: { Cookie: cookies },
        });
        const newSid = (JSON.parse(again.body.toString().slice(1)) as { sid: string }).sid;
        assert.equal(slotOfSessionId(newSid), slotOfSessionId(sid), "the primary must route by the session cookie");
        const nodeIndex = Number(nodeCookie.split("=")[1].replace("node", "")) - 1;
        const direct = await httpRequest(nodes[nodeIndex].port, "POST", `/socket.io/?EIO=4&transport=polling&sid=${newSid}`, {
          body: "40",
          headers: { "Content-Type": "text/plain" },
        });
        assert.equal(direct.status, 200, "the new session must live on the cookie's node");
      });
    }

    it("marks a stopped node down by its /readyz check, and new clients go to the other", async () => {
      assert.equal((await nodes[0].stop("SIGTERM")).code, 0);
      await waitUntil(async () => (await haproxy.serverStates(STATS)).get("node1") === "DOWN", "HAProxy marks node1 DOWN", 10_000);
      assert.equal((await haproxy.serverStates(STATS)).get("node2"), "UP");
      for (const localAddress of CLIENT_IPS) {
        const client = await connectClient(haproxy.url, { localAddress, withCredentials: true });
        assert.equal(nodeOfPid.get(client.hello.pid), 1, `${localAddress} must land on the remaining node`);
        client.close();
      }
    });
  });
}
