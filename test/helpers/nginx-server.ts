import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { nofileHardLimit } from "../../cli/nofile-limit.js";
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

/**
 * Rewrites a file of the copy, never the host's: sites-enabled/default is a symlink into
 * /etc/nginx/sites-available, and Node 24's cpSync keeps nested links as links even with
 * `dereference` (Node 20 copied the target), so the link is replaced by a file first.
 */
function rewriteCopy(path: string, transform: (text: string) => string): void {
  const text = readFileSync(path, "utf8");
  rmSync(path, { force: true });
  writeFileSync(path, transform(text));
}

/**
 * Debian's stock /etc/nginx (the package's nginx.conf, its enabled `default` site, conf.d/)
 * copied under a temp prefix: absolute paths moved into it and the default site's port 80 moved
 * to `port`, so the distribution's layout runs as is, with `snippet` dropped into conf.d/.
 */
export function debianLayout(port: number, snippet: string): { prefix: string; configFile: string } {
  if (!existsSync("/etc/nginx/sites-enabled/default")) throw new Error("Debian's nginx package (/etc/nginx/sites-enabled/default) is not installed");
  const prefix = mkdtempSync(join(tmpdir(), "sio-nginx-debian-"));
  // The stock config switches workers to www-data: they must reach the prefix.
  chmodSync(prefix, 0o755);
  const etc = join(prefix, "etc");
  cpSync("/etc/nginx", etc, { recursive: true, dereference: true });
  mkdirSync(join(prefix, "logs"));
  const moved = (text: string): string =>
    text
      .replaceAll("/etc/nginx/", `${etc}/`)
      .replaceAll("/var/log/nginx/", `${prefix}/logs/`)
      .replace(/^pid .*;$/m, `pid ${prefix}/nginx.pid;`);
  const configFile = join(etc, "nginx.conf");
  rewriteCopy(configFile, moved);
  rewriteCopy(join(etc, "sites-enabled", "default"), (text) =>
    text.replace(/listen 80 /g, `listen ${port} `).replace(/listen \[::\]:80 /g, `listen [::]:${port} `),
  );
  writeFileSync(join(etc, "conf.d", "sio-gateway.conf"), snippet);
  return { prefix, configFile };
}

export interface NginxRunOptions {
  /** Command and arguments put in front of nginx (e.g. prlimit, setpriv to run it as another user). */
  wrapper?: string[];
  /** The access log, relative to the prefix. @default "access.log" */
  accessLog?: string;
  /** Wait until this URL path answers on `port` (any status). @default "/healthz" */
  readyPath?: string;
}

/** A real nginx in the foreground, from a generated `--full` config in its own temp prefix, or from a prepared prefix. */
export class NginxServer {
  private constructor(
    readonly child: ChildProcess,
    readonly port: number,
    readonly prefix: string,
    private output: { text: string },
    private readonly accessLogFile: string,
  ) {}

  static async start(options: Omit<NginxConfigOptions, "full" | "listen">, run: NginxRunOptions = {}): Promise<NginxServer> {
    const port = await freePort();
    const prefix = mkdtempSync(join(tmpdir(), "sio-nginx-"));
    const configFile = join(prefix, "nginx.conf");
    // As `sio-gateway nginx --full` does: within this user's hard limit (a container's root may lack CAP_SYS_RESOURCE too).
    writeFileSync(configFile, generateNginxConfig({ ...options, full: true, listen: port, nofileHardLimit: nofileHardLimit() }));
    return NginxServer.run(prefix, configFile, port, run);
  }

  /** Runs nginx on a config already written under `prefix`, listening on `port`. */
  static async run(prefix: string, configFile: string, port: number, run: NginxRunOptions = {}): Promise<NginxServer> {
    const output = { text: "" };
    const [command, ...args] = [...(run.wrapper ?? []), "nginx", "-p", prefix, "-c", configFile, "-e", "stderr", "-g", "daemon off;"];
    const child = spawn(command, args, { stdio: ["ignore", "pipe", "pipe"] });
    child.stdout.on("data", (chunk: Buffer) => (output.text += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (output.text += chunk.toString()));
    const server = new NginxServer(child, port, prefix, output, join(prefix, run.accessLog ?? "access.log"));
    // nginx says nothing when it is up: wait until it answers.
    try {
      await waitUntil(() => {
        if (child.exitCode !== null) throw new Error(`nginx exited with ${child.exitCode}: ${output.text}`);
        return httpRequest(port, "GET", run.readyPath ?? "/healthz").then(
          () => true,
          () => false,
        );
      }, `nginx answers on port ${port}`);
    } catch (error) {
      await server.stop();
      throw error;
    }
    return server;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** What nginx wrote to stderr (its error log with `-e stderr`). */
  get log(): string {
    return this.output.text;
  }

  /** The access log's lines so far. */
  accessLog(): string[] {
    return linesOf(this.accessLogFile);
  }

  /** The error log's lines so far (a generated `--full` config writes `error.log` in the prefix). */
  errorLog(): string[] {
    return linesOf(join(this.prefix, "error.log"));
  }

  /** Fast stop (SIGTERM: a graceful SIGQUIT would wait for every open WebSocket), waits for the exit, removes the prefix. */
  async stop(): Promise<void> {
    await stopChild(this.child);
    rmSync(this.prefix, { recursive: true, force: true });
  }
}

function linesOf(file: string): string[] {
  return existsSync(file) ? readFileSync(file, "utf8").split("\n").filter(Boolean) : [];
}
