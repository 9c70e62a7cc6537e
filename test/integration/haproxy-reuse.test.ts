/**
 * Upstream keep-alive is safe (routing guarantee 6): a real HAProxy with `http-reuse always`
 * (idle server connections shared between clients) in front of two gateway nodes, polling
 * clients from many addresses. Before per-request routing, a request that HAProxy sent down a
 * connection first used by another client reached that client's worker: 400 "Session ID
 * unknown", and the client dropped.
 */
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { slotForIp } from "../../gateway/routing.js";
import { slotOfSessionId } from "../../gateway/session-id.js";
import { generateHaproxyConfig } from "../../haproxy/index.js";
import { connectClient, request, type TestClient } from "../helpers/clients.js";
import { httpRequest } from "../helpers/engine-raw.js";
import { ECHO_APP } from "../helpers/fixtures.js";
import { GatewayProcess } from "../helpers/gateway-process.js";
import { freePort } from "../helpers/ports.js";
import { stopChild } from "../helpers/processes.js";
import { RedisServer } from "../helpers/redis-server.js";
import { waitUntil } from "../helpers/wait.js";

const CLIENTS = 16;
const ROUND_TRIPS = 15;

/** The generated config, which keeps upstream connections alive and shares them between clients. */
function withUpstreamReuse(config: string): string {
  assert.match(config, /^ {4}option http-keep-alive\n {4}http-reuse always$/m, "the generated config shares upstream connections");
  return config;
}

describe("HAProxy with http-reuse always in front of two nodes", () => {
  let redis: RedisServer;
  const nodes: GatewayProcess[] = [];
  let haproxy: ChildProcess | undefined;
  let port: number;
  let dir: string;

  before(async () => {
    redis = await RedisServer.start();
    for (let i = 0; i < 2; i++)
      nodes.push(await GatewayProcess.start(["--workers", "2", "--redis", redis.url, "--app", ECHO_APP, "--trust-proxy", "127.0.0.1"]));
    port = await freePort();
    dir = mkdtempSync(join(tmpdir(), "sio-haproxy-reuse-"));
    const configFile = join(dir, "haproxy.cfg");
    writeFileSync(configFile, withUpstreamReuse(generateHaproxyConfig({ upstreams: nodes.map((node) => `127.0.0.1:${node.port}`), full: true, listen: port })));
    let output = "";
    const child = spawn("haproxy", ["-db", "-f", configFile], { stdio: ["ignore", "pipe", "pipe"] });
    haproxy = child;
    child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
    await waitUntil(() => {
      if (child.exitCode !== null) throw new Error(`haproxy exited with ${child.exitCode}: ${output}`);
      return httpRequest(port, "GET", "/healthz").then(
        (response) => response.status === 200,
        () => false,
      );
    }, `haproxy answers on port ${port}`);
  });
  after(async () => {
    if (haproxy) await stopChild(haproxy);
    rmSync(dir, { recursive: true, force: true });
    for (const node of nodes) assert.equal((await node.stop()).code, 0);
    await redis.stop();
  });

  it("6. polling clients from 16 addresses all connect and every round trip is answered: no 400, no drop", async () => {
    const clients: TestClient[] = [];
    const drops: string[] = [];
    try {
      for (let i = 0; i < CLIENTS; i++) {
        const client = await connectClient(`http://127.0.0.1:${port}`, { localAddress: `127.0.${60 + i}.1`, transports: ["polling"], reconnection: false });
        client.socket.on("disconnect", (reason) => drops.push(`client ${i}: ${reason}`));
        clients.push(client);
      }
      // Concurrent round trips keep several upstream connections busy, so HAProxy mixes clients on them.
      await Promise.all(
        clients.map(async (client, i) => {
          for (let n = 0; n < ROUND_TRIPS; n++) assert.equal(await request<string>(client.socket, "echo", `${i}-${n}`), `${i}-${n}`);
        }),
      );
      assert.deepEqual(drops, []);
      // Each handshake was routed by its own client's address, not by the first client on the pooled connection.
      const misrouted = clients
        .map((client, i) => ({ i, sid: client.socket.io.engine.id }))
        .filter(({ i, sid }) => slotOfSessionId(sid) !== slotForIp(`127.0.${60 + i}.1`, 2));
      assert.deepEqual(misrouted, []);
    } finally {
      for (const client of clients) client.close();
    }
  });
});
