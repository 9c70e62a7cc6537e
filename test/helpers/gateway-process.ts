import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

export const CLI = fileURLToPath(new URL("../../dist/cli/main.js", import.meta.url));

export interface ExitResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs the CLI to completion (for commands that must exit, such as a bad flag). */
export function runCli(args: string[], env: NodeJS.ProcessEnv = {}, timeout = 15_000): Promise<ExitResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`sio-gateway ${args.join(" ")} did not exit within ${timeout} ms`));
    }, timeout);
    child.once("exit", (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

/** `sio-gateway start` as a child process, resolved once it printed its `ready:` line. */
export class GatewayProcess {
  stdout = "";
  stderr = "";
  port = 0;
  readonly exited: Promise<ExitResult>;

  private constructor(readonly child: ChildProcess) {
    child.stdout!.on("data", (chunk: Buffer) => (this.stdout += chunk.toString()));
    child.stderr!.on("data", (chunk: Buffer) => (this.stderr += chunk.toString()));
    this.exited = new Promise((resolve) => child.once("exit", (code, signal) => resolve({ code, signal, stdout: this.stdout, stderr: this.stderr })));
  }

  static async start(args: string[], env: NodeJS.ProcessEnv = {}, timeout = 20_000): Promise<GatewayProcess> {
    const child = spawn(process.execPath, [CLI, "start", "--port", "0", "--host", "127.0.0.1", ...args], {
      env: { ...process.env, LOG_LEVEL: "warn", ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    const gateway = new GatewayProcess(child);
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`gateway not ready within ${timeout} ms; stderr:\n${gateway.stderr}`)), timeout);
      const onData = (): void => {
        const match = /^ready: http:\/\/[^:]+:(\d+) /m.exec(gateway.stdout);
        if (!match) return;
        clearTimeout(timer);
        child.stdout.off("data", onData);
        gateway.port = Number(match[1]);
        resolve();
      };
      child.stdout.on("data", onData);
      void gateway.exited.then((result) => {
        clearTimeout(timer);
        reject(new Error(`gateway exited (${result.code ?? result.signal}) before ready; stderr:\n${result.stderr}`));
      });
    });
    return gateway;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** The pids of the primary's children (its workers, including any being replaced), ascending. */
  workerPids(): number[] {
    const pid = this.child.pid!;
    return readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8")
      .trim()
      .split(/\s+/)
      .map(Number)
      .sort((a, b) => a - b);
  }

  /** Sends a signal and waits for the exit. */
  async stop(signal: NodeJS.Signals = "SIGTERM"): Promise<ExitResult> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill(signal);
    return this.exited;
  }
}
