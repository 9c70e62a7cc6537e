/**
 * deploy/: the systemd unit passes `systemd-analyze verify`, the alert rules pass `promtool check
 * rules`, and every panel of the Grafana dashboard returns data from a real Prometheus scraping a
 * real gateway under load (the alert rules loaded there too, and evaluated without error).
 */
import assert from "node:assert/strict";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { request as httpGet } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { after, before, describe, it } from "node:test";
import { connectClient, request, type TestClient } from "../helpers/clients.js";
import { httpRequest } from "../helpers/engine-raw.js";
import { GatewayProcess } from "../helpers/gateway-process.js";
import { freePort } from "../helpers/ports.js";
import { stopChild } from "../helpers/processes.js";
import { waitUntil } from "../helpers/wait.js";

const deployFile = (path: string): string => fileURLToPath(new URL(`../../deploy/${path}`, import.meta.url));
const UNIT = deployFile("systemd/sio-gateway.service");
const RULES = deployFile("prometheus/sio-gateway.rules.yml");
const DASHBOARD = deployFile("grafana/sio-gateway.json");

/** The command's path, or undefined: a test that needs it is skipped with the reason. */
function installed(command: string): string | undefined {
  const result = spawnSync("sh", ["-c", `command -v ${command}`], { encoding: "utf8" });
  return result.status === 0 ? result.stdout.trim() : undefined;
}

const missing = (command: string, pkg: string): string | false =>
  installed(command) ? false : `${command} is not installed (Debian package ${pkg}; .ci/run installs it)`;

describe("deploy/ files pass their own tools' checks", () => {
  const dir = mkdtempSync(join(tmpdir(), "sio-deploy-"));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("systemd unit: systemd-analyze verify (and a broken copy fails it)", { skip: missing("systemd-analyze", "systemd") }, () => {
    // verify checks that ExecStart's binary exists: on a machine whose node is not /usr/bin/node, check a copy naming this one.
    const unit = join(dir, "sio-gateway.service");
    const text = readFileSync(UNIT, "utf8");
    writeFileSync(unit, installed("/usr/bin/node") ? text : text.replaceAll("/usr/bin/node ", `${process.execPath} `));
    const ok = spawnSync("systemd-analyze", ["verify", unit], { encoding: "utf8" });
    assert.equal(ok.status, 0, `${ok.stdout}${ok.stderr}`);
    assert.doesNotMatch(`${ok.stdout}${ok.stderr}`, /sio-gateway\.service:\d+:/, "no warning about a line of the unit");
    writeFileSync(unit, text.replace(/^Restart=on-failure$/m, "Restart=sometimes"));
    assert.match(
      spawnSync("systemd-analyze", ["verify", unit], { encoding: "utf8" }).stderr,
      /sio-gateway\.service:\d+: Failed to parse service restart specifier/,
      "the check must be able to fail",
    );
  });

  it("alert rules: promtool check rules (and a broken copy fails it)", { skip: missing("promtool", "prometheus") }, () => {
    const ok = spawnSync("promtool", ["check", "rules", RULES], { encoding: "utf8" });
    assert.equal(ok.status, 0, `${ok.stdout}${ok.stderr}`);
    assert.match(ok.stdout, /SUCCESS: 9 rules found/);
    const broken = join(dir, "broken.rules.yml");
    writeFileSync(broken, readFileSync(RULES, "utf8").replace("sio_gateway_workers == 0", "sio_gateway_workers == = 0"));
    assert.notEqual(spawnSync("promtool", ["check", "rules", broken]).status, 0);
  });
});

interface PromResponse {
  status: string;
  data: { result?: unknown[]; groups?: { rules: { name: string; health: string; lastError?: string }[] }[] };
}

function prometheusApi(port: number, path: string): Promise<PromResponse> {
  return new Promise((resolve, reject) => {
    const req = httpGet({ host: "127.0.0.1", port, path, timeout: 5000 }, (res) => {
      let body = "";
      res.on("data", (chunk: Buffer) => (body += chunk.toString()));
      res.on("end", () => {
        try {
          resolve(JSON.parse(body) as PromResponse);
        } catch {
          reject(new Error(`${path}: not JSON: ${body.slice(0, 200)}`));
        }
      });
    });
    req.on("timeout", () => req.destroy(new Error(`${path}: no answer within 5 s`)));
    req.on("error", reject);
    req.end();
  });
}

describe("the Grafana dashboard against a real Prometheus scraping a gateway under load", { skip: missing("prometheus", "prometheus") }, () => {
  const dir = mkdtempSync(join(tmpdir(), "sio-prometheus-"));
  let gateway: GatewayProcess;
  let prometheus: ChildProcess;
  let promPort: number;
  let promLog = "";
  const clients: TestClient[] = [];
  let loadDone = false;
  let load: Promise<void> = Promise.resolve();

  before(async () => {
    gateway = await GatewayProcess.start(["--workers", "2", "--rate-limit", "20"]);
    promPort = await freePort();
    copyFileSync(RULES, join(dir, "rules.yml"));
    writeFileSync(
      join(dir, "prometheus.yml"),
      [
        "global:",
        "  scrape_interval: 1s",
        "  evaluation_interval: 1s",
        "rule_files:",
        "  - rules.yml",
        "scrape_configs:",
        "  - job_name: sio-gateway",
        "    static_configs:",
        `      - targets: ["127.0.0.1:${gateway.port}"]`,
        "",
      ].join("\n"),
    );
    prometheus = spawn(
      "prometheus",
      [
        `--config.file=${join(dir, "prometheus.yml")}`,
        `--storage.tsdb.path=${join(dir, "data")}`,
        `--web.listen-address=127.0.0.1:${promPort}`,
        "--log.level=warn",
      ],
      { cwd: dir, stdio: ["ignore", "pipe", "pipe"] },
    );
    prometheus.stdout!.on("data", (chunk: Buffer) => (promLog += chunk.toString()));
    prometheus.stderr!.on("data", (chunk: Buffer) => (promLog += chunk.toString()));
    await waitUntil(
      () => {
        if (prometheus.exitCode !== null) throw new Error(`prometheus exited: ${promLog}`);
        return httpRequest(promPort, "GET", "/-/ready").then(
          (response) => response.status === 200,
          () => false,
        );
      },
      "prometheus ready",
      30_000,
    );

    // Load: polling and WebSocket clients in a room, chatting; one floods past the rate limit;
    // some leave (disconnection reasons); one request head too large (a refusal by reason).
    for (let k = 0; k < 10; k++)
      clients.push(await connectClient(gateway.url, { localAddress: `127.0.${150 + k}.1`, transports: k % 2 ? ["websocket"] : ["polling", "websocket"] }));
    for (const client of clients) await request(client.socket, "join", "load");
    assert.equal(
      (await httpRequest(gateway.port, "GET", "/socket.io/?EIO=4&transport=polling", { headers: { Cookie: `c=${"x".repeat(20_000)}` } })).status,
      431,
    );
    load = (async () => {
      const until = Date.now() + 90_000;
      for (let round = 0; round < 2000 && !loadDone && Date.now() < until; round++) {
        await Promise.all(clients.slice(0, 6).map((client) => request(client.socket, "chat", { room: "load", text: `round ${round}` })));
        if (round % 5 === 0) for (let burst = 0; burst < 40; burst++) clients[0].socket.emit("chat", { room: "load", text: "flood" });
        if (round % 10 === 0) {
          // a client leaves and a new one comes: disconnections and handshakes keep moving
          clients.pop()?.close();
          clients.push(await connectClient(gateway.url, { localAddress: `127.0.${170 + (round % 50)}.1` }));
        }
        await new Promise((resolve) => setTimeout(resolve, 50)); // the pace of the load, not a wait for a result
      }
    })();
  });

  after(async () => {
    loadDone = true;
    await load.catch(() => undefined);
    for (const client of clients) client.close();
    if (prometheus) await stopChild(prometheus);
    const result = await gateway?.stop();
    rmSync(dir, { recursive: true, force: true });
    if (result) assert.equal(result.code, 0, result.stderr);
  });

  it("every panel query returns data", async () => {
    const dashboard = JSON.parse(readFileSync(DASHBOARD, "utf8")) as { panels: { title: string; targets: { expr: string }[] }[] };
    const queries = dashboard.panels.flatMap((panel) =>
      panel.targets.map((target) => ({ title: panel.title, expr: target.expr.replaceAll("$__rate_interval", "15s") })),
    );
    assert.ok(queries.length >= 15, "a dashboard worth the name");
    let empty: string[] = [];
    await waitUntil(
      async () => {
        empty = [];
        for (const query of queries) {
          const answer = await prometheusApi(promPort, `/api/v1/query?query=${encodeURIComponent(query.expr)}`);
          assert.equal(answer.status, "success", `${query.title}: ${query.expr}`);
          if ((answer.data.result ?? []).length === 0) empty.push(query.title);
        }
        return empty.length === 0;
      },
      "every panel has data",
      60_000,
      1000,
    ).catch((error: Error) => assert.fail(`${error.message}; panels without data: ${empty.join(", ")}`));
  });

  it("the alert rules load into Prometheus and evaluate without error", async () => {
    await waitUntil(
      async () => {
        const rules = (await prometheusApi(promPort, "/api/v1/rules")).data.groups?.flatMap((group) => group.rules) ?? [];
        return rules.length === 9 && rules.every((rule) => rule.health === "ok");
      },
      "9 rules evaluated with health ok",
      30_000,
      500,
    );
  });
});
