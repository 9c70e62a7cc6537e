/**
 * A request head trickled one byte per TCP segment costs the primary CPU in proportion to its
 * length (issue 18): compared with a bare Node socket reader in its own process that receives
 * the same segments at the same pace, the primary spends at most 1.5× its CPU. (The old reader
 * concatenated and re-parsed everything on every chunk: 4.3 s against ~1 s.)
 */
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import { connect, type Socket } from "node:net";
import { describe, it } from "node:test";
import { loopbackAddress } from "../helpers/clients.js";
import { GatewayProcess } from "../helpers/gateway-process.js";
import { stopChild } from "../helpers/processes.js";
import { waitFor } from "../helpers/wait.js";

const HEAD_SIZE = 16 * 1024;
/** Pace of the trickle: one byte per this many ms on average (16 KB over ~8 s). */
const BYTE_INTERVAL = 0.5;

/** CPU seconds (user + system) a process has used, from /proc (clock ticks of 10 ms). */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** A 16 KB request head that ends only at its last byte. */
function longHead(): Buffer {
  const start = "GET /healthz HTTP/1.1\r\nHost: a\r\nX-Pad: ";
  return Buffer.from(`${start}${"x".repeat(HEAD_SIZE - start.length - 4)}\r\n\r\n`, "latin1");
}

/**
 * Writes `bytes` one per write (Nagle off: one segment each) at BYTE_INTERVAL ms per byte,
 * then resolves once the peer answered or closed; bounded by `timeout`.
 */
async function trickle(port: number, bytes: Buffer, timeout = 30_000): Promise<void> {
  const socket: Socket = connect({ host: "127.0.0.1", port, localAddress: loopbackAddress(120), noDelay: true });
  socket.on("error", () => {});
  await waitFor(socket, "connect");
  const answered = Promise.race([waitFor(socket, "data", timeout), waitFor(socket, "close", timeout)]);
  const started = performance.now();
  let sent = 0;
  await new Promise<void>((resolve, reject) => {
    const deadline = started + timeout;
    const step = (): void => {
      const due = Math.min(bytes.length, Math.floor((performance.now() - started) / BYTE_INTERVAL));
      for (; sent < due; sent++) socket.write(bytes.subarray(sent, sent + 1));
      if (sent >= bytes.length) return resolve();
      if (performance.now() > deadline) return reject(new Error(`trickle: ${sent} of ${bytes.length} bytes within ${timeout} ms`));
      setTimeout(step, 1);
    };
    step();
  });
  await answered;
  socket.destroy();
}

/** A bare Node socket reader in its own process: it reads and drops, and answers once it has `size` bytes. */
async function startBareReader(size: number): Promise<{ child: ChildProcess; port: number }> {
  const script = `
    const server = require("node:net").createServer((socket) => {
      let got = 0;
      socket.on("data", (chunk) => { got += chunk.length; if (got >= ${size}) socket.end("HTTP/1.1 200 OK\\r\\nContent-Length: 0\\r\\n\\r\\n"); });
      socket.on("error", () => {});
    });
    server.listen(0, "127.0.0.1", () => process.stdout.write(server.address().port + "\\n"));`;
  const child = spawn(process.execPath, ["-e", script], { stdio: ["ignore", "pipe", "inherit"] });
  const [chunk] = await waitFor<[Buffer]>(child.stdout, "data");
  return { child, port: Number(chunk.toString().trim()) };
}

describe("a request head trickled byte by byte", () => {
  it("5. costs the primary at most 1.5x the CPU of a bare Node socket reader receiving the same segments", async (t) => {
    const head = longHead();
    const bare = await startBareReader(head.length);
    let bareCpu: number;
    try {
      const before = cpuSeconds(bare.child.pid!);
      await trickle(bare.port, head);
      bareCpu = cpuSeconds(bare.child.pid!) - before;
    } finally {
      await stopChild(bare.child);
    }

    const gateway = await GatewayProcess.start(["--workers", "1", "--header-timeout", "30000", "--max-header-size", String(HEAD_SIZE)]);
    try {
      const primary = gateway.child.pid!;
      const before = cpuSeconds(primary);
      await trickle(gateway.port, head);
      const primaryCpu = cpuSeconds(primary) - before;
      t.diagnostic(`primary ${primaryCpu.toFixed(2)} s CPU, bare reader ${bareCpu.toFixed(2)} s CPU`);
      assert.ok(primaryCpu <= Math.max(bareCpu, 0.1) * 1.5, `primary ${primaryCpu.toFixed(2)} s CPU vs bare reader ${bareCpu.toFixed(2)} s`);
      const health = await fetch(`${gateway.url}/healthz`);
      assert.equal(health.status, 200);
    } finally {
      assert.equal((await gateway.stop()).code, 0);
    }
  });
});
