import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { generateHaproxyConfig, type HaproxyConfigOptions } from "../../haproxy/index.js";
import { httpRequest } from "./engine-raw.js";
import { freePort } from "./ports.js";
import { stopChild } from "./processes.js";
import { waitUntil } from "./wait.js";

/** Runs `haproxy -c` on a config file; returns its exit code and output. */
export function haproxyCheck(configFile: string): { code: number | null; output: string } {
  const result = spawnSync("haproxy", ["-c", "-f", configFile], { encoding: "utf8" });
  return { code: result.status, output: `${result.stdout}${result.stderr}` };
}

/** A real HAProxy in the foreground (-db), from a generated `--full` config in a temp directory. */
export class HaproxyServer {
  private constructor(
    readonly child: ChildProcess,
    readonly port: number,
    private readonly dir: string,
  ) {}

  static async start(options: Omit<HaproxyConfigOptions, "full" | "listen">): Promise<HaproxyServer> {
    const port = await freePort();
    const dir = mkdtempSync(join(tmpdir(), "sio-haproxy-"));
    const configFile = join(dir, "haproxy.cfg");
    writeFileSync(configFile, generateHaproxyConfig({ ...options, full: true, listen: port }));
    let output = "";
    const child = spawn("haproxy", ["-db", "-f", configFile], { stdio: ["ignore", "pipe", "pipe"] });
    child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
    // HAProxy says nothing when it is up: wait until it answers.
    await waitUntil(() => {
      if (child.exitCode !== null) throw new Error(`haproxy exited with ${child.exitCode}: ${output}`);
      return httpRequest(port, "GET", "/healthz").then(
        (response) => response.status === 200,
        () => false,
      );
    }, `haproxy answers on port ${port}`);
    return new HaproxyServer(child, port, dir);
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** The servers' states from the stats page's CSV (needs the `stats` option): node name → UP, DOWN, … */
  async serverStates(credentials: string): Promise<Map<string, string>> {
    const response = await httpRequest(this.port, "GET", "/haproxy-stats;csv", {
      headers: { Authorization: `Basic ${Buffer.from(credentials).toString("base64")}` },
    });
    const states = new Map<string, string>();
    for (const line of response.body.toString().split("\n")) {
      const fields = line.split(",");
      if (fields[0] === "sio_gateway_nodes" && fields[1]?.startsWith("node")) states.set(fields[1], fields[17]);
    }
    return states;
  }

  async stop(): Promise<void> {
    await stopChild(this.child);
    rmSync(this.dir, { recursive: true, force: true });
  }
}
