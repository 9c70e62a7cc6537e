import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
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

const SOCKET_NAME = "haproxy-admin.sock";

/**
 * A real HAProxy in the foreground (-db), from a generated `--full` config in a temp directory
 * (its working directory, so the runtime API socket lives there), with the stats listener on a
 * free port. Its stderr is the log: access lines and events.
 */
export class HaproxyServer {
  private output = "";

  private constructor(
    readonly child: ChildProcess,
    readonly port: number,
    readonly statsPort: number,
    private readonly dir: string,
    /** With TLS, the plain port that redirects. */
    readonly redirectPort: number | undefined,
  ) {
    child.stdout!.on("data", (chunk: Buffer) => (this.output += chunk.toString()));
    child.stderr!.on("data", (chunk: Buffer) => (this.output += chunk.toString()));
  }

  static async start(options: Omit<HaproxyConfigOptions, "full" | "listen" | "statsListen" | "statsSocket">): Promise<HaproxyServer> {
    const [port, statsPort] = [await freePort(), await freePort()];
    const redirectPort = options.tlsCert === undefined ? undefined : await freePort();
    const dir = mkdtempSync(join(tmpdir(), "sio-haproxy-"));
    const configFile = join(dir, "haproxy.cfg");
    writeFileSync(
      configFile,
      generateHaproxyConfig({
        ...options,
        full: true,
        listen: port,
        statsListen: `127.0.0.1:${statsPort}`,
        statsSocket: SOCKET_NAME,
        httpRedirectPort: redirectPort,
      }),
    );
    const child = spawn("haproxy", ["-db", "-f", configFile], { cwd: dir, stdio: ["ignore", "pipe", "pipe"] });
    const server = new HaproxyServer(child, port, statsPort, dir, redirectPort);
    // HAProxy says nothing when it is up: wait until its stats listener answers and a node is up.
    try {
      await waitUntil(() => {
        if (child.exitCode !== null) throw new Error(`haproxy exited with ${child.exitCode}: ${server.log}`);
        return server.serverStates(options.stats).then(
          (states) => [...states.values()].includes("UP"),
          () => false,
        );
      }, `haproxy on port ${port} has a node up`);
    } catch (error) {
      await server.stop();
      throw error;
    }
    return server;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** HAProxy's log so far (stderr): one `httplog` line per request, and events. */
  get log(): string {
    return this.output;
  }

  /** The servers' states from the internal stats listener's CSV: node name → UP, DOWN, DRAIN, … */
  async serverStates(credentials?: string): Promise<Map<string, string>> {
    const headers: Record<string, string> = credentials ? { Authorization: `Basic ${Buffer.from(credentials).toString("base64")}` } : {};
    const response = await httpRequest(this.statsPort, "GET", "/;csv", { headers });
    if (response.status !== 200) throw new Error(`stats answered ${response.status}`);
    const states = new Map<string, string>();
    for (const line of response.body.toString().split("\n")) {
      const fields = line.split(",");
      if (fields[0] === "sio_gateway_nodes" && fields[1]?.startsWith("node")) states.set(fields[1], fields[17]);
    }
    return states;
  }

  /** One command on the runtime API (the `stats socket`), as `socat stdio SOCKET` would send it; resolves with the answer. */
  runtime(command: string): Promise<string> {
    return new Promise((resolve, reject) => {
      const socket = connect(join(this.dir, SOCKET_NAME));
      let answer = "";
      socket.setTimeout(5000, () => socket.destroy(new Error(`runtime API: no answer to "${command}" within 5 s`)));
      socket.on("data", (chunk: Buffer) => (answer += chunk.toString()));
      socket.on("end", () => resolve(answer));
      socket.on("error", reject);
      socket.end(`${command}\n`);
    });
  }

  async stop(): Promise<void> {
    await stopChild(this.child);
    rmSync(this.dir, { recursive: true, force: true });
  }
}
