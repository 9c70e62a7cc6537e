import type { Socket } from "node:net";
import { stopHandle } from "./read-stop.js";
import { HeadScanner } from "./head-scanner.js";
import { parseRequestHead, type RequestHead } from "./request-head.js";

/**
 * Reads the head of a connection's first HTTP request in the primary, then stops reading so
 * the socket can be handed to a worker with nothing lost.
 *
 * Why not `socket.once("data") + pause()` (as @socket.io/sticky does): `pause()` only stops
 * the stream from emitting; the TCP handle keeps reading into the stream's buffer until the
 * high-water mark, and those bytes (often a POST body in a second segment) die with the
 * primary's copy of the socket. So, in the same tick as the last chunk we use, we stop the
 * handle itself (`readStop()`): whatever the client sends later stays in the kernel's buffer
 * and the worker reads it from the handle it receives.
 */

export type HeadReadResult =
  | { kind: "head"; head: RequestHead; bytes: Buffer }
  | { kind: "invalid"; reason: string; bytes: Buffer }
  | { kind: "too-large"; bytes: Buffer }
  | { kind: "timeout"; bytes: Buffer }
  | { kind: "closed" };

export interface HeadReaderLimits {
  /** How long to wait for the complete head, in ms. */
  headerTimeout: number;
  /** How many bytes the head may have at most. */
  maxHeaderSize: number;
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

/**
 * Resolves once the head is complete (or the connection is bad). On every outcome but
 * "closed" the socket is left paused with its handle stopped, and `bytes` holds every byte
 * read so far, in order, as received.
 */
export function readRequestHead(socket: Socket, limits: HeadReaderLimits): Promise<HeadReadResult> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let length = 0;

    // Every outcome but "closed" carries all bytes read, gathered here (in order, as received).
    const finish = (result: DistributiveOmit<HeadReadResult, "bytes">): void => {
      clearTimeout(timer);
      socket.removeListener("data", onData);
      socket.removeListener("close", onClose);
      socket.removeListener("error", onClose);
      socket.pause();
      // Anything the stream buffered but did not emit yet belongs to the request too. read()
      // may restart the handle, so it runs before stopHandle(), in the same tick: no I/O between.
      for (let chunk = socket.read() as Buffer | null; chunk !== null; chunk = socket.read() as Buffer | null) {
        chunks.push(chunk);
        length += chunk.length;
      }
      stopHandle(socket);
      if (result.kind === "closed") return resolve(result);
      resolve({ ...result, bytes: Buffer.concat(chunks, length) });
    };

    // Each byte is scanned a bounded number of times; the bytes are joined and parsed only at
    // the two moments the scanner reports (line end, head end): linear in the head's length.
    const scanner = new HeadScanner();
    const parseNow = (end: number): ReturnType<typeof parseRequestHead> => {
      const all = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, length);
      chunks.length = 0;
      chunks.push(all);
      return parseRequestHead(all.subarray(0, end));
    };
    const onData = (chunk: Buffer): void => {
      chunks.push(chunk);
      length += chunk.length;
      const step = scanner.push(chunk);
      if (step.kind === "not-http") return finish({ kind: "invalid", reason: "not an HTTP request" });
      if (step.kind === "head-end" && step.headEnd > limits.maxHeaderSize) return finish({ kind: "too-large" });
      if (step.kind === "head-end" || step.kind === "line-end") {
        const parsed = parseNow(step.kind === "head-end" ? step.headEnd : Math.min(length, limits.maxHeaderSize));
        if (parsed.kind === "complete") return finish({ kind: "head", head: parsed.head });
        if (parsed.kind === "invalid") return finish({ kind: "invalid", reason: parsed.reason });
      }
      if (length >= limits.maxHeaderSize) return finish({ kind: "too-large" });
    };
    const onClose = (): void => finish({ kind: "closed" });
    const timer = setTimeout(() => finish({ kind: "timeout" }), limits.headerTimeout);

    socket.on("data", onData);
    socket.once("close", onClose);
    socket.once("error", onClose);
    // The server was created with pauseOnConnect (flowing === false): a data listener alone does not start reading.
    socket.resume();
  });
}
