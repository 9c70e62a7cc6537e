/**
 * One worker killed (-9) behind the generated Nginx while it holds its polling clients' long-polls:
 * only those clients reconnect. The other clients of the same node keep their sessions: the broken
 * requests do not take the node out of Nginx (max_fails=0), which would send its other clients to
 * the other node, where their sessions are unknown (400). A node that stops altogether is skipped
 * per request: faults.test.ts and recovery-edges.test.ts.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { connectClient, request, type TestClient } from "../helpers/clients.js";
import { GatewayProcess } from "../helpers/gateway-process.js";
import { NginxServer } from "../helpers/nginx-server.js";
import { RedisServer } from "../helpers/redis-server.js";
import { waitUntil } from "../helpers/wait.js";

/** Clients in distinct /24s (nginx's ip_hash hashes an IPv4 client by its first three octets). */
const CANDIDATE_IPS = Array.from({ length: 40 }, (_, k) => `127.0.${100 + k}.1`);

interface Tracked {
  client: TestClient;
  node: number;
  worker: number;
  /** The Engine.IO session id at the start: the nginx access log names it in `sid=`. */
  sid: string;
  disconnects: number;
}

describe("nginx in front of two nodes, one worker killed with SIGKILL", () => {
  let redis: RedisServer;
  const nodes: GatewayProcess[] = [];
  let nginx: NginxServer;
  const tracked: Tracked[] = [];

  before(async () => {
    redis = await RedisServer.start();
    for (let index = 0; index < 2; index++) nodes.push(await GatewayProcess.start(["--workers", "2", "--redis", redis.url, "--trust-proxy", "127.0.0.1"]));
    nginx = await NginxServer.start({ upstreams: nodes.map((node) => `127.0.0.1:${node.port}`) });
  });
  after(async () => {
    for (const entry of tracked) entry.client.close();
    await nginx?.stop();
    for (const node of nodes) await node.stop();
    await redis?.stop();
  });

  it("only the killed worker's clients reconnect; the others keep their sessions, with no 400 for them in the nginx log", async () => {
    const nodeOfPid = new Map(nodes.flatMap((node, index) => node.workerPids().map((pid) => [pid, index] as [number, number])));
    const covered = (): boolean =>
      [0, 1].every((worker) => tracked.some((entry) => entry.node === 0 && entry.worker === worker)) && tracked.some((entry) => entry.node === 1);
    // A victim connected two clients before the last has its next long-poll in its worker for sure.
    const settledVictim = (): boolean => tracked.some((entry, index) => entry.node === 0 && entry.worker === 0 && index < tracked.length - 2);
    for (const localAddress of CANDIDATE_IPS) {
      if (covered() && tracked.length >= 8 && settledVictim()) break;
      const client = await connectClient(nginx.url, { localAddress, transports: ["polling"] });
      const entry: Tracked = { client, node: nodeOfPid.get(client.hello.pid)!, worker: client.hello.worker, sid: client.socket.io.engine.id, disconnects: 0 };
      client.socket.on("disconnect", () => entry.disconnects++);
      tracked.push(entry);
    }
    assert.ok(covered() && settledVictim(), "clients on both workers of node 0 and on node 1, a victim long connected");
    const victims = tracked.filter((entry) => entry.node === 0 && entry.worker === 0);
    const survivors = tracked.filter((entry) => !victims.includes(entry));
    const victimPid = victims[0].client.hello.pid;

    process.kill(victimPid, "SIGKILL");
    await waitUntil(() => victims.every((entry) => entry.disconnects > 0), "every client of the killed worker noticed", 15_000);
    // The case under test happened: Nginx saw a victim's long-poll break (with max_fails=1 that took the node out).
    const victimSids = victims.map((entry) => entry.sid);
    const broken = nginx.errorLog().filter((line) => /upstream prematurely closed|reset by peer/.test(line) && victimSids.some((sid) => line.includes(sid)));
    assert.ok(broken.length > 0, `nginx saw a victim's request break: ${nginx.errorLog().join("\n")}`);
    // Every survivor sends a request now, inside the 10 s a max_fails=1 fail_timeout=10s node would be out.
    for (const entry of survivors) {
      const me = await request<{ pid: number }>(entry.client.socket, "whoami");
      assert.equal(me.pid, entry.client.hello.pid, "the survivor is still served by its own worker");
    }
    // The victims come back on the replacement worker of the same node and slot.
    await waitUntil(() => victims.every((entry) => entry.client.socket.connected), "the killed worker's clients reconnected", 20_000);
    for (const entry of victims) {
      const me = await request<{ pid: number; worker: number }>(entry.client.socket, "whoami");
      assert.notEqual(me.pid, victimPid);
      assert.equal(nodeOfPid.has(me.pid) ? nodeOfPid.get(me.pid) : 0, 0, "back on node 0");
    }
    for (const entry of survivors) {
      assert.equal(entry.disconnects, 0, `a survivor on node ${entry.node} worker ${entry.worker} was disconnected`);
      assert.equal(entry.client.socket.io.engine.id, entry.sid, "a survivor kept its session");
    }
    const survivorSids = new Set(survivors.map((entry) => entry.sid));
    const refused = nginx.accessLog().filter((line) => / 400 /.test(line) && survivorSids.has(/sid=([^& "]+)/.exec(line)?.[1] ?? ""));
    assert.deepEqual(refused, [], "no 400 for a survivor's session");
  });
});
