/**
 * Supervision that never hangs: --start-timeout names what it waited for and exits 1; options and
 * secrets reach workers over IPC, never through their environment; connections waiting for a
 * restarting worker add no listener each; the primary's own process metrics.
 */
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, it } from "node:test";
import { slotForIp } from "../../gateway/routing.js";
import { connectClient, loopbackAddress } from "../helpers/clients.js";
import { GatewayProcess, runCli } from "../helpers/gateway-process.js";
import { freePort } from "../helpers/ports.js";
import { waitUntil } from "../helpers/wait.js";

const fixture = (name: string): string => fileURLToPath(new URL(`../fixtures/${name}`, import.meta.url));

describe("supervision", () => {
  it("Redis on a closed port: start exits 1 within --start-timeout, naming Redis (and no password)", async () => {
    const port = await freePort();
    const started = Date.now();
    const result = await runCli(
      ["start", "--port", "0", "--workers", "2", "--redis", `redis://:hunter2secret@127.0.0.1:${port}`, "--start-timeout", "3000"],
      {},
      20_000,
    );
    const elapsed = Date.now() - started;
    assert.equal(result.code, 1, result.stderr);
    assert.ok(elapsed < 10_000, `exited after ${elapsed} ms`);
    const line = result.stderr.split("\n").find((text) => text.startsWith("sio-gateway: "));
    assert.match(
      line ?? "",
      new RegExp(`0 of 2 workers ready; worker \\d waits for Redis at redis://127\\.0\\.0\\.1:${port} to answer.* within --start-timeout 3000 ms`),
    );
    assert.doesNotMatch(result.stderr, /hunter2secret/);
    assert.doesNotMatch(result.stdout, /ready:/);
  });

  it("an app whose set-up never finishes: exit 1 after --start-timeout, saying the workers are still starting", async () => {
    const result = await runCli(["start", "--port", "0", "--workers", "1", "--app", fixture("slow-start-app.mjs"), "--start-timeout", "1500"], {}, 20_000);
    assert.equal(result.code, 1, result.stderr);
    assert.match(result.stderr, /sio-gateway: 0 of 1 workers ready; worker 0 is still starting .* within --start-timeout 1500 ms/);
  });

  it("secrets never reach a worker's environment nor a process it spawns", async () => {
    const dir = mkdtempSync(join(tmpdir(), "sio-env-"));
    const gateway = await GatewayProcess.start(
      ["--workers", "2", "--app", fixture("env-dump-app.mjs"), "--emit-token", "flag-token-5ecret", "--admin-ui", "admin:flag-password-5ecret"],
      { ENV_DUMP_DIR: dir, SIO_GATEWAY_EMIT_TOKEN: undefined, EMIT_TOKEN: undefined },
    );
    try {
      for (const pid of gateway.workerPids()) {
        const environ = readFileSync(`/proc/${pid}/environ`, "utf8");
        assert.doesNotMatch(environ, /SIO_GATEWAY_OPTIONS|5ecret/, `worker ${pid}'s /proc environ`);
      }
      for (const file of ["worker-0.env", "worker-1.env", "child-0.env", "child-1.env"]) {
        const dumped = readFileSync(join(dir, file), "utf8");
        assert.doesNotMatch(dumped, /SIO_GATEWAY_OPTIONS|5ecret/, file);
      }
    } finally {
      await gateway.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("a secret given in the environment does not reach the workers either", async () => {
    const dir = mkdtempSync(join(tmpdir(), "sio-env-"));
    const gateway = await GatewayProcess.start(["--workers", "1", "--app", fixture("env-dump-app.mjs")], { ENV_DUMP_DIR: dir, EMIT_TOKEN: "env-token-5ecret" });
    try {
      const response = await fetch(`${gateway.url}/emit`, {
        method: "POST",
        headers: { authorization: "Bearer env-token-5ecret", "content-type": "application/json" },
        body: '{"event":"x"}',
      });
      assert.equal(response.status, 202, "the token from the environment is in force");
      assert.doesNotMatch(readFileSync(join(dir, "worker-0.env"), "utf8"), /5ecret/);
      assert.doesNotMatch(readFileSync(join(dir, "child-0.env"), "utf8"), /5ecret/);
    } finally {
      await gateway.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("20 connections waiting for a restarting worker print no listener warning", async () => {
    const gateway = await GatewayProcess.start(["--workers", "2", "--max-conns-per-ip", "0"]);
    try {
      const first = await connectClient(gateway.url, { localAddress: loopbackAddress(0), transports: ["websocket"], reconnection: false });
      const slot = first.hello.worker;
      const sameSlot: string[] = [];
      for (let n = 1; n < 200 && sameSlot.length < 20; n++) {
        const address = loopbackAddress(n);
        if (slotForIp(address, 2) === slot) sameSlot.push(address);
      }
      process.kill(first.hello.pid, "SIGKILL");
      first.close();
      // While the slot's replacement starts, these wait in the primary for it.
      const clients = await Promise.all(sameSlot.map((localAddress) => connectClient(gateway.url, { localAddress, transports: ["websocket"] }, 20_000)));
      for (const client of clients) client.close();
      assert.ok(clients.every((client) => client.hello.worker === slot));
      assert.doesNotMatch(gateway.stderr, /MaxListenersExceededWarning/);
    } finally {
      await gateway.stop();
    }
  });

  it("--pid-file: the primary's pid once ready, SIGHUP to it restarts the workers, removed at exit", async () => {
    const dir = mkdtempSync(join(tmpdir(), "sio-pid-"));
    const pidFile = join(dir, "gateway.pid");
    const gateway = await GatewayProcess.start(["--workers", "2", "--pid-file", pidFile]);
    try {
      const pid = Number(readFileSync(pidFile, "utf8"));
      assert.equal(pid, gateway.child.pid);
      const before = gateway.workerPids();
      process.kill(pid, "SIGHUP");
      await waitUntil(
        () => gateway.workerPids().length === 2 && gateway.workerPids().every((worker) => !before.includes(worker)),
        "both workers replaced",
        30_000,
      );
      assert.equal((await gateway.stop()).code, 0);
      assert.equal(existsSync(pidFile), false, "the pid file is removed at exit");
    } finally {
      await gateway.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("/metrics has the primary's own process metrics (role=primary), restarts as a counter, build info", async () => {
    const gateway = await GatewayProcess.start(["--workers", "2"]);
    try {
      let text = "";
      await waitUntil(async () => {
        text = await (await fetch(`${gateway.url}/metrics`)).text();
        return text.includes('role="primary"');
      }, "primary process metrics in /metrics");
      assert.match(text, /^process_cpu_user_seconds_total\{role="primary"\} [\d.e+-]+$/m);
      assert.match(text, /^process_cpu_user_seconds_total\{worker="0"\} [\d.e+-]+$/m);
      assert.match(text, /^nodejs_eventloop_lag_p99_seconds\{role="primary"\} /m);
      assert.match(text, /^process_open_fds\{role="primary"\} \d+/m);
      assert.equal(text.match(/^# TYPE process_cpu_user_seconds_total /gm)?.length, 1, "one family, not two");
      assert.match(text, /^# TYPE sio_gateway_worker_restarts_total counter$/m);
      assert.match(text, /^sio_gateway_build_info\{version="\d+\.\d+\.\d+[^"]*",node="v\d+\.\d+\.\d+"\} 1$/m);
    } finally {
      await gateway.stop();
    }
  });
});
