/**
 * The generated Nginx config on a real host's terms: Debian's stock layout with its default site
 * enabled, header limits that agree with the gateway, TLS with a redirect and IPv6, no setrlimit
 * alert as a non-root user, and the gateway's internal endpoints kept off the public side.
 */
import assert from "node:assert/strict";
import { chownSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { request as httpsRequest } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import WebSocket from "ws";
import { generateNginxConfig } from "../../nginx/index.js";
import { connectClient } from "../helpers/clients.js";
import { httpRequest, type RawResponse } from "../helpers/engine-raw.js";
import { GatewayProcess } from "../helpers/gateway-process.js";
import { debianLayout, NginxServer, nginxTest } from "../helpers/nginx-server.js";
import { freePort } from "../helpers/ports.js";
import { makeTestCertificate } from "../helpers/tls-cert.js";
import { parsePrometheus, valueOf } from "../helpers/prometheus.js";
import { waitFor } from "../helpers/wait.js";

const HANDSHAKE = "/socket.io/?EIO=4&transport=polling";

/** An HTTPS GET to `host` (IPv4 or IPv6 literal) that trusts the test certificate. */
function httpsGet(host: string, port: number, path: string, ca: string): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest({ host, port, path, ca, servername: "localhost", checkServerIdentity: () => undefined, agent: false, timeout: 10_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on("timeout", () => req.destroy(new Error(`GET ${path}: no answer within 10 s`)));
    req.on("error", reject);
    req.end();
  });
}

describe("nginx on a real host's terms", () => {
  let gateway: GatewayProcess;
  let upstream: string;
  const scratch = mkdtempSync(join(tmpdir(), "sio-nginx-edge-"));

  before(async () => {
    gateway = await GatewayProcess.start(["--workers", "2", "--trust-proxy", "127.0.0.1"]);
    upstream = `127.0.0.1:${gateway.port}`;
  });
  after(async () => {
    const result = await gateway.stop();
    rmSync(scratch, { recursive: true, force: true });
    assert.equal(result.code, 0, result.stderr);
  });

  it("Debian's stock layout, default site enabled: with --server-name the snippet wins; polling and WebSocket connect", async () => {
    const port = await freePort();
    const snippet = generateNginxConfig({ upstreams: [upstream], listen: port, serverName: "127.0.0.1" });
    const { prefix, configFile } = debianLayout(port, snippet);
    const nginx = await NginxServer.run(prefix, configFile, port, { accessLog: "logs/access.log" });
    try {
      const polling = await connectClient(nginx.url, { transports: ["polling"], localAddress: "127.0.60.1" });
      const websocket = await connectClient(nginx.url, { transports: ["websocket"], localAddress: "127.0.61.1" });
      polling.close();
      websocket.close();
      // Any other host name still gets Debian's default site, as before.
      const other = await httpRequest(port, "GET", "/socket.io/?EIO=4&transport=polling", { headers: { Host: "elsewhere.example" } });
      assert.equal(other.status, 404);
    } finally {
      await nginx.stop();
    }
  });

  it("Debian's stock layout, default site enabled: without --server-name nginx -t fails on the duplicate default server instead of losing quietly", () => {
    const snippet = generateNginxConfig({ upstreams: [upstream], listen: 18090 });
    const { prefix, configFile } = debianLayout(18090, snippet);
    try {
      const result = nginxTest(prefix, configFile);
      assert.notEqual(result.code, 0);
      assert.match(result.output, /a duplicate default server for 0\.0\.0\.0:18090/);
    } finally {
      rmSync(prefix, { recursive: true, force: true });
    }
  });

  it("a 12 KB cookie passes nginx and the gateway; a 20 KB one gets 431 from both, logged and counted", async () => {
    const nginx = await NginxServer.start({ upstreams: [upstream] });
    try {
      const cookie = (size: number): Record<string, string> => ({ Cookie: `big=${"x".repeat(size)}` });
      assert.equal((await httpRequest(nginx.port, "GET", HANDSHAKE, { headers: cookie(12 * 1024) })).status, 200, "12 KB through nginx");
      assert.equal((await httpRequest(gateway.port, "GET", HANDSHAKE, { headers: cookie(12 * 1024) })).status, 200, "12 KB direct");
      const before = valueOf(parsePrometheus((await httpRequest(gateway.port, "GET", "/metrics")).body.toString()), "sio_gateway_primary_rejected_total", {
        reason: "header-size",
      });
      assert.equal((await httpRequest(nginx.port, "GET", HANDSHAKE, { headers: cookie(20 * 1024) })).status, 431, "20 KB through nginx");
      assert.equal((await httpRequest(gateway.port, "GET", HANDSHAKE, { headers: cookie(20 * 1024) })).status, 431, "20 KB direct");
      const afterRefusal = valueOf(
        parsePrometheus((await httpRequest(gateway.port, "GET", "/metrics")).body.toString()),
        "sio_gateway_primary_rejected_total",
        { reason: "header-size" },
      );
      assert.equal(afterRefusal - before, 1, "the gateway counts its refusal by reason");
      assert.ok(
        nginx.accessLog().some((line) => /"GET \/socket\.io\/\?EIO=4&transport=polling HTTP\/1\.1" 431 /.test(line)),
        nginx.accessLog().join("\n"),
      );
    } finally {
      await nginx.stop();
    }
  });

  it("/metrics and /admin-ui are not served through nginx (they are on the node)", async () => {
    const nginx = await NginxServer.start({ upstreams: [upstream] });
    try {
      assert.equal((await httpRequest(gateway.port, "GET", "/metrics")).status, 200);
      assert.equal((await httpRequest(nginx.port, "GET", "/metrics")).status, 404);
      assert.equal((await httpRequest(nginx.port, "GET", "/admin-ui/")).status, 404);
      assert.equal((await httpRequest(nginx.port, "GET", "/healthz")).status, 200);
    } finally {
      await nginx.stop();
    }
  });

  it("TLS: HTTPS on IPv4 and IPv6 (polling and WebSocket), plain HTTP redirected to HTTPS", async () => {
    const tls = makeTestCertificate(scratch);
    const ca = readFileSync(tls.cert, "utf8");
    const [tlsPort, plainPort] = [await freePort(), await freePort()];
    const prefix = mkdtempSync(join(tmpdir(), "sio-nginx-tls-"));
    const configFile = join(prefix, "nginx.conf");
    writeFileSync(
      configFile,
      generateNginxConfig({ upstreams: [upstream], full: true, listen: tlsPort, httpRedirectPort: plainPort, tlsCert: tls.cert, tlsKey: tls.key }),
    );
    const nginx = await NginxServer.run(prefix, configFile, plainPort);
    try {
      const redirect = await httpRequest(plainPort, "GET", `${HANDSHAKE}&x=1`);
      assert.equal(redirect.status, 301);
      assert.equal(redirect.headers.location, `https://127.0.0.1:${tlsPort}${HANDSHAKE}&x=1`);
      for (const host of ["127.0.0.1", "::1"]) {
        const handshake = await httpsGet(host, tlsPort, HANDSHAKE, ca);
        assert.equal(handshake.status, 200, `${host}: ${handshake.body.toString()}`);
        assert.match(handshake.body.toString(), /^0\{"sid":/);
      }
      // The test certificate names localhost and 127.0.0.1, not ::1; Node's TLS takes undefined as "identity ok" (ws' type says boolean).
      const acceptIdentity = (() => undefined) as unknown as () => boolean;
      const ws = new WebSocket(`wss://[::1]:${tlsPort}/socket.io/?EIO=4&transport=websocket`, { ca, checkServerIdentity: acceptIdentity });
      try {
        const [open] = await waitFor<[Buffer]>(ws, "message");
        assert.match(open.toString(), /^0\{"sid":/);
      } finally {
        ws.terminate();
      }
    } finally {
      await nginx.stop();
    }
  });

  it("--full as a non-root user with a low hard limit: no setrlimit alert (the uncapped config shows why)", async () => {
    const asNobody = ["prlimit", "--nofile=1024:8192", "setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups"];
    const errorLogs: string[] = [];
    for (const nofileHardLimit of [8192, undefined]) {
      const port = await freePort();
      const prefix = mkdtempSync(join(tmpdir(), "sio-nginx-nobody-"));
      chownSync(prefix, 65534, 65534);
      const configFile = join(prefix, "nginx.conf");
      writeFileSync(configFile, generateNginxConfig({ upstreams: [upstream], full: true, listen: port, nofileHardLimit }));
      const nginx = await NginxServer.run(prefix, configFile, port, { wrapper: asNobody });
      try {
        // Workers set their limit before they accept: once one answered, its alert (if any) is written.
        assert.equal((await httpRequest(port, "GET", "/healthz")).status, 200);
        errorLogs.push(`${readFileSync(join(prefix, "error.log"), "utf8")}${nginx.log}`);
      } finally {
        await nginx.stop();
      }
    }
    assert.doesNotMatch(errorLogs[0], /setrlimit/, errorLogs[0]);
    assert.match(errorLogs[1], /setrlimit\(RLIMIT_NOFILE, 33792\) failed/, "without the cap the alert shows: the check above can fail");
  });
});
