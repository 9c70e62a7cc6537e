import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { generateNginxConfig, type NginxConfigOptions } from "../../nginx/index.js";
import { httpRequest } from "./engine-raw.js";
import { freePort } from "./ports.js";
import { stopChild } from "./processes.js";
import { waitUntil } from "./wait.js";

/** Runs `nginx -t` on a config file in a prefix directory; returns its exit code and output. */
export function nginxTest(prefix: string, configFile: string): { code: number | null; output: string } {
  const result = spawnSync("nginx", ["-t", "-p", prefix, "-c", configFile, "-e", "stderr"], { encoding: "utf8" });
  return { code: result.status, output: `${result.stdout}${result.stderr}` };
}

/** A real nginx in the foreground, from a generated `--full` config in its own temp prefix. */
export class NginxServer {
  private constructor(
    readonly child: ChildProcess,
    readonly port: number,
    readonly prefix: string,
    private output: { text: string },
  ) {}

  static async start(options: Omit<NginxConfigOptions, "full" | "listen">): Promise<NginxServer> {
    const port = await freePort();
    const prefix = mkdtempSync(join(tmpdir(), "sio-nginx-"));
    const configFile = join(prefix, "nginx.conf");
    writeFileSync(configFile, generateNginxConfig({ ...options, full: true, listen: port }));
    const output = { text: "" };
    const child = spawn("nginx", ["-p", prefix, "-c", configFile, "-e", "stderr", "-g", "daemon off;"], { stdio: ["ignore", "pipe", "pipe"] });
    child.stdout.on("data", (chunk: Buffer) => (output.text += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (output.text += chunk.toString()));
    const server = new NginxServer(child, port, prefix, output);
    // nginx says nothing when it is up: wait until it answers.
    await waitUntil(() => {
      if (child.exitCode !== null) throw new Error(`nginx exited with ${child.exitCode}: ${output.text}`);
      return httpRequest(port, "GET", "/healthz").then(
        () => true,
        () => false,
      );
    }, `nginx answers on port ${port}`);
    return server;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get log(): string {
    return this.output.text;
  }

  /** Fast stop (SIGTERM: a graceful SIGQUIT would wait for every open WebSocket), waits for the exit, removes the prefix. */
  async stop(): Promise<void> {
    await stopChild(this.child);
    rmSync(this.prefix, { recursive: true, force: true });
  }
}
