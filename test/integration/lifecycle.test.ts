/**
 * Supervision and the command line: a killed worker comes back in its slot and only its
 * clients reconnect (to it); SIGTERM drains and exits 0; bad configuration exits 2 naming
 * the option; `npm start` serves the demo app (port 3000 by default; PORT here).
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, it } from "node:test";
import { clientsPerWorker, request, type Hello } from "../helpers/clients.js";
import { httpRequest } from "../helpers/engine-raw.js";
import { freePort } from "../helpers/ports.js";
import { GatewayProcess, runCli } from "../helpers/gateway-process.js";
import { RedisServer } from "../helpers/redis-server.js";
import { waitFor, waitUntil } from "../helpers/wait.js";

describe("supervision", () => {
  it("replaces a killed worker in the same slot; its clients reconnect to it, the others see no disconnect", async () => {
    const redis = await RedisServer.start();
    // Node's http client (under socket.io-client's polling) sometimes re-queues a request whose
    // keep-alive socket died onto a new socket without writing it; the primary then waits for a
    // head that never comes. A short header timeout cuts that idle connection (browsers do not do this).
    const gateway = await GatewayProcess.start(["--workers", "2", "--redis", redis.url, "--header-timeout", "1000"]);
    const clients = await clientsPerWorker(gateway.url, 2, 2);
    try {
      const victims = clients.filter((client) => client.hello.worker === 0);
      const bystanders = clients.filter((client) => client.hello.worker === 1);
      let bystanderDisconnects = 0;
      for (const client of bystanders) client.socket.on("disconnect", () => bystanderDisconnects++);
      const rehellos = victims.map((client) => waitFor<[Hello]>(client.socket, "hello", 20_000));

      process.kill(victims[0].hello.pid, "SIGKILL");

      for (const [index, rehello] of rehellos.entries()) {
        const [hello] = await rehello;
        assert.equal(hello.worker, 0, "a client of slot 0 must come back to slot 0");
        assert.notEqual(hello.pid, victims[index].hello.pid, "slot 0 must run a new process");
      }
      // A round trip through every bystander after the victims are back: any disconnect would have shown by now.
      for (const client of bystanders) await request(client.socket, "whoami");
      assert.equal(bystanderDisconnects, 0);
      assert.match(gateway.stderr, /worker exited, replacing it in the same slot/);
      const health = await httpRequest(gateway.port, "GET", "/readyz");
      assert.equal(health.status, 200);
    } finally {
      for (const client of clients) client.close();
      const result = await gateway.stop();
      await redis.stop();
      assert.equal(result.code, 0, result.stderr);
    }
  });

  it("drains on SIGTERM: workers go ready -> draining, clients are disconnected, exit code 0 within the timeout", async () => {
    const gateway = await GatewayProcess.start(["--workers", "2", "--shutdown-timeout", "5000"], { LOG_LEVEL: "info" });
    const clients = await clientsPerWorker(gateway.url, 2, 2);
    try {
      const disconnects = clients.map((client) => waitFor(client.socket, "disconnect", 10_000));
      const started = Date.now();
      const result = await gateway.stop("SIGTERM");
      assert.equal(result.code, 0, result.stderr);
      assert.ok(Date.now() - started < 5000, "the gateway took longer than its shutdown timeout");
      await Promise.all(disconnects);
      for (const slot of [0, 1]) assert.match(result.stderr, new RegExp(`"worker":${slot},"msg":"ready -> draining"`));
      assert.match(result.stderr, /"role":"primary","msg":"draining -> closed"/);
    } finally {
      for (const client of clients) client.close();
      await gateway.stop("SIGKILL");
    }
  });
});

describe("command line", () => {
  it("exits 2 with one line naming a bad option, and starts nothing", async () => {
    const cases: [string[], NodeJS.ProcessEnv, RegExp][] = [
      [["start", "--workers", "-1"], {}, /^sio-gateway: invalid option "workers": expected a positive integer, got "-1"\n$/],
      [["start", "--port", "http"], {}, /^sio-gateway: invalid option "port": expected a port number from 0 to 65535, got "http"\n$/],
      [
        ["start", "--redis", "mysql://x"],
        {},
        /^sio-gateway: invalid option "redis": expected a redis:\/\/, rediss:\/\/, redis-sentinel:\/\/host:port\[,host:port\]\/master-name or redis-cluster:\/\/host:port\[,host:port\] URL, got "mysql:\/\/x"\n$/,
      ],
      [["start", "--no-such-flag"], {}, /^sio-gateway: unknown option "--no-such-flag" for "sio-gateway start"/],
      [["start"], { WORKERS: "zero" }, /^sio-gateway: invalid option "workers": expected a positive integer, got "zero"\n$/],
      [["launch"], {}, /^sio-gateway: unknown command "launch"/],
    ];
    for (const [args, env, expected] of cases) {
      const result = await runCli(args, env);
      assert.equal(result.code, 2, `${args.join(" ")}: ${result.stderr}`);
      assert.match(result.stderr, expected);
      assert.equal(result.stdout, "");
    }
  });

  it("exits 2 when the app module has no default export function", async () => {
    const notAnApp = fileURLToPath(new URL("../fixtures/not-an-app.mjs", import.meta.url));
    const result = await runCli(["start", "--port", "0", "--workers", "1", "--app", notAnApp]);
    assert.equal(result.code, 2, result.stderr);
    assert.match(result.stderr, /expected a default export \(ctx\) => void, got string/);
    assert.doesNotMatch(result.stdout, /ready:/);
  });

  it("`npm start` serves the demo app with no Redis (on a free port through PORT: 3000 may be taken here)", async () => {
    const root = fileURLToPath(new URL("../..", import.meta.url));
    const port = await freePort();
    const child = spawn("npm", ["start", "--silent"], {
      cwd: root,
      env: { ...process.env, PORT: String(port), WORKERS: "2", LOG_LEVEL: "warn" },
      stdio: ["ignore", "pipe", "pipe"],
      detached: true,
    });
    let stdout = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    const exited = waitFor<[number | null]>(child, "exit", 30_000);
    try {
      await waitUntil(() => stdout.includes(`ready: http://0.0.0.0:${port} (2 workers, adapter=cluster)`), "npm start printed its ready line", 20_000);
      const page = await httpRequest(port, "GET", "/");
      assert.equal(page.status, 200);
      assert.match(page.body.toString(), /<title>[^<]*chat/i);
      assert.match(page.body.toString(), /socket\.io\.js/);
      const client = (await import("socket.io-client")).io(`http://127.0.0.1:${port}`, { forceNew: true });
      const [hello] = await waitFor<[Hello]>(client, "hello");
      assert.ok(hello.worker === 0 || hello.worker === 1);
      client.disconnect();
    } finally {
      // npm, its shell and the gateway share a process group: SIGTERM reaches all, as Ctrl-C would.
      process.kill(-child.pid!, "SIGTERM");
      await exited;
      await waitUntil(
        () =>
          httpRequest(port, "GET", "/healthz").then(
            () => false,
            () => true,
          ),
        `port ${port} is free again (no process left behind)`,
      );
    }
  });
});

describe("sio-gateway doctor on this machine", () => {
  it("prints the table (or JSON) and exits 0 when all is sufficient, 1 otherwise; a bad count exits 2", async () => {
    const table = await runCli(["doctor", "--connections", "1000"]);
    assert.match(table.stdout, /^host limits for 1000 concurrent connections\n\nsetting +now +needed +how to set it\n/);
    const json = await runCli(["doctor", "--connections", "1000", "--json"]);
    const report = JSON.parse(json.stdout) as { ok: boolean; checks: { ok: boolean }[] };
    assert.equal(
      report.ok,
      report.checks.every((check) => check.ok),
    );
    assert.equal(json.code, report.ok ? 0 : 1);
    assert.equal(table.code, json.code);
    const bad = await runCli(["doctor", "--connections", "lots"]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /^sio-gateway: invalid option "connections": expected a positive integer, got "lots"\n$/);
  });
});
