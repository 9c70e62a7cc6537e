/**
 * HAProxy as ops run it: access logs written, stats on an internal listener (not the public
 * port), X-Forwarded-Proto for the app, TLS with a redirect, and a node drained through the
 * runtime API (stats socket): it gets no new clients while its own keep their sessions.
 */
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { request as httpsRequest } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { connectClient, request, type TestClient } from "../helpers/clients.js";
import { httpRequest, type RawResponse } from "../helpers/engine-raw.js";
import { GatewayProcess } from "../helpers/gateway-process.js";
import { HaproxyServer } from "../helpers/haproxy-server.js";
import { RedisServer } from "../helpers/redis-server.js";
import { makeTestCertificate } from "../helpers/tls-cert.js";
import { waitUntil } from "../helpers/wait.js";

const DEMO_APP = new URL("../../dist/demo-app/index.js", import.meta.url).href;

/** The demo app plus a route that shows the headers a request arrived with. */
const ECHO_APP = `import demo from ${JSON.stringify(DEMO_APP)};
export { options } from ${JSON.stringify(DEMO_APP)};
export default async function (ctx) {
  await demo(ctx);
  ctx.app.get("/echo-headers", (req, res) => res.json(req.headers));
}
`;

function httpsGet(port: number, path: string, ca: string): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest({ host: "127.0.0.1", port, path, ca, agent: false, timeout: 10_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on("timeout", () => req.destroy(new Error(`GET ${path}: no answer within 10 s`)));
    req.on("error", reject);
    req.end();
  });
}

describe("HAProxy as ops run it", () => {
  const dir = mkdtempSync(join(tmpdir(), "sio-haproxy-ops-"));
  let redis: RedisServer;
  const nodes: GatewayProcess[] = [];
  let haproxy: HaproxyServer;
  let nodeOfPid: Map<number, number>;

  before(async () => {
    const app = join(dir, "echo-app.mjs");
    writeFileSync(app, ECHO_APP);
    redis = await RedisServer.start();
    for (let i = 0; i < 2; i++) nodes.push(await GatewayProcess.start(["--workers", "2", "--redis", redis.url, "--trust-proxy", "127.0.0.1", "--app", app]));
    nodeOfPid = new Map(nodes.flatMap((node, index) => node.workerPids().map((pid) => [pid, index] as [number, number])));
    haproxy = await HaproxyServer.start({ upstreams: nodes.map((node) => `127.0.0.1:${node.port}`), checkInterval: 300 });
  });
  after(async () => {
    await haproxy?.stop();
    for (const node of nodes) await node.stop();
    await redis?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("writes an access log line per request", async () => {
    assert.equal((await httpRequest(haproxy.port, "GET", "/healthz?from=log-test", { localAddress: "127.0.70.1" })).status, 200);
    await waitUntil(
      () => /127\.0\.70\.1:\d+ .* sio_gateway_in sio_gateway_nodes\/node\d .* 200 .*"GET \/healthz\?from=log-test HTTP\/1\.1"/.test(haproxy.log),
      "an httplog line",
    );
  });

  it("stats on the internal listener only; /metrics and /admin-ui not public", async () => {
    assert.ok((await haproxy.serverStates()).size === 2);
    assert.equal((await httpRequest(haproxy.port, "GET", "/haproxy-stats")).status, 404, "the public port is the gateway's, with no stats page");
    assert.equal((await httpRequest(haproxy.port, "GET", "/metrics")).status, 404);
    assert.equal((await httpRequest(haproxy.port, "GET", "/admin-ui/")).status, 404);
    assert.equal((await httpRequest(nodes[0].port, "GET", "/metrics")).status, 200);
  });

  it("tells the app the scheme (X-Forwarded-Proto) and the client (X-Forwarded-For)", async () => {
    const echoed = JSON.parse((await httpRequest(haproxy.port, "GET", "/echo-headers", { localAddress: "127.0.71.1" })).body.toString()) as Record<
      string,
      string
    >;
    assert.equal(echoed["x-forwarded-proto"], "http");
    assert.equal(echoed["x-forwarded-for"], "127.0.71.1");
  });

  it("drain through the runtime API: the node keeps its clients' sessions, new clients go to the other node", async () => {
    const clients: TestClient[] = [];
    try {
      for (let k = 0; k < 16 && !clients.some((client) => nodeOfPid.get(client.hello.pid) === 0); k++)
        clients.push(await connectClient(haproxy.url, { localAddress: `127.0.${80 + k}.1`, transports: ["polling"] }));
      const onNode1 = clients.filter((client) => nodeOfPid.get(client.hello.pid) === 0);
      assert.ok(onNode1.length > 0, "a client on node1");
      let disconnects = 0;
      for (const client of onNode1) client.socket.on("disconnect", () => disconnects++);

      assert.equal((await haproxy.runtime("set server sio_gateway_nodes/node1 state drain")).trim(), "");
      await waitUntil(async () => (await haproxy.serverStates()).get("node1") === "DRAIN", "node1 in DRAIN");

      for (let k = 0; k < 8; k++) {
        const fresh = await connectClient(haproxy.url, { localAddress: `127.0.${120 + k}.1`, transports: ["polling"] });
        clients.push(fresh);
        assert.equal(nodeOfPid.get(fresh.hello.pid), 1, "a new client goes to the node that is not drained");
      }
      for (const client of onNode1) {
        // Several round trips over polling, each a new routing decision in HAProxy.
        for (let round = 0; round < 3; round++) assert.equal((await request<{ pid: number }>(client.socket, "whoami")).pid, client.hello.pid);
      }
      assert.equal(disconnects, 0, "the drained node's clients keep their sessions");
    } finally {
      for (const client of clients) client.close();
      await haproxy.runtime("set server sio_gateway_nodes/node1 state ready");
    }
  });

  it("TLS: HTTPS with X-Forwarded-Proto https, plain HTTP redirected", async () => {
    const tls = makeTestCertificate(dir);
    const pem = join(dir, "haproxy.pem");
    writeFileSync(pem, `${readFileSync(tls.cert, "utf8")}${readFileSync(tls.key, "utf8")}`);
    const secure = await HaproxyServer.start({ upstreams: nodes.map((node) => `127.0.0.1:${node.port}`), tlsCert: pem });
    try {
      const echoed = await httpsGet(secure.port, "/echo-headers", readFileSync(tls.cert, "utf8"));
      assert.equal(echoed.status, 200);
      assert.equal((JSON.parse(echoed.body.toString()) as Record<string, string>)["x-forwarded-proto"], "https");
      const handshake = await httpsGet(secure.port, "/socket.io/?EIO=4&transport=polling", readFileSync(tls.cert, "utf8"));
      assert.match(handshake.body.toString(), /^0\{"sid":/);
      const redirect = await httpRequest(secure.redirectPort!, "GET", "/socket.io/?EIO=4");
      assert.equal(redirect.status, 301);
      assert.match(String(redirect.headers.location), /^https:\/\/127\.0\.0\.1:\d+\/socket\.io\/\?EIO=4$/);
    } finally {
      await secure.stop();
    }
  });
});
