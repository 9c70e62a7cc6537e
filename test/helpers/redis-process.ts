import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { stopChild } from "./processes.js";

/**
 * Starts a redis-server (or sentinel) process and resolves when its log says `ready`. It runs in
 * a temp directory of its own, removed when it exits: whatever it writes there (a replica's
 * sync snapshot, dump.rdb) never lands in the repository.
 */
export function startRedisProcess(args: string[], ready: RegExp = /Ready to accept connections/): Promise<ChildProcess> {
  const cwd = mkdtempSync(join(tmpdir(), "sio-redis-"));
  const child = spawn("redis-server", args, { cwd, stdio: ["ignore", "pipe", "pipe"] });
  child.once("exit", () => rmSync(cwd, { recursive: true, force: true }));
  return new Promise((resolve, reject) => {
    let output = "";
    const onData = (chunk: Buffer): void => {
      output += chunk.toString();
      if (ready.test(output)) {
        child.stdout.off("data", onData);
        child.stdout.resume();
        resolve(child);
      }
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString())); // config errors go there
    child.once("exit", (code) => reject(new Error(`redis-server ${args.join(" ")} exited with ${code}: ${output}`)));
  });
}

/** Options every test Redis gets: loopback only, nothing saved to disk. */
export const EPHEMERAL_REDIS_ARGS = ["--bind", "127.0.0.1", "--save", "", "--appendonly", "no"];

/**
 * Listen on `port` with TLS only (plain port off), replication over TLS too, clients not asked
 * for certificates; `cert` is self-signed, so it is its own CA.
 */
export function tlsOnlyArgs(port: number, cert: { cert: string; key: string }): string[] {
  return [
    "--port",
    "0",
    "--tls-port",
    String(port),
    "--tls-cert-file",
    cert.cert,
    "--tls-key-file",
    cert.key,
    "--tls-ca-cert-file",
    cert.cert,
    "--tls-auth-clients",
    "no",
    "--tls-replication",
    "yes",
  ];
}

/** Kills every process of a test Redis set (SIGKILL: nothing to save) and removes its directory. */
export async function stopRedisSet(children: Map<unknown, ChildProcess>, dir: string): Promise<void> {
  await Promise.all([...children.values()].map((child) => stopChild(child, "SIGKILL")));
  children.clear();
  rmSync(dir, { recursive: true, force: true });
}
