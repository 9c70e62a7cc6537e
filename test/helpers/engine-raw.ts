import { request } from "node:http";
import { connect } from "node:net";

/**
 * Engine.IO v4 long-polling by hand, one new TCP connection per request (agent: false), so
 * every request passes the primary's routing: what a browser does when its address changes.
 */
export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

export function httpRequest(
  port: number,
  method: string,
  path: string,
  options: { localAddress?: string; body?: Buffer | string; headers?: Record<string, string> } = {},
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: "127.0.0.1", port, method, path, localAddress: options.localAddress, agent: false, headers: options.headers, timeout: 10_000 },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (chunk: Buffer) => chunks.push(chunk));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      },
    );
    req.on("timeout", () => req.destroy(new Error(`${method} ${path}: no response within 10 s`)));
    req.on("error", reject);
    req.end(options.body);
  });
}

const RECORD_SEPARATOR = "\x1e";

/** Opens an Engine.IO session over polling; returns its sid. */
export async function handshake(port: number, localAddress: string): Promise<string> {
  const response = await httpRequest(port, "GET", "/socket.io/?EIO=4&transport=polling", { localAddress });
  const text = response.body.toString();
  if (response.status !== 200 || !text.startsWith("0")) throw new Error(`handshake failed: ${response.status} ${text}`);
  return (JSON.parse(text.slice(1)) as { sid: string }).sid;
}

/** POSTs Engine.IO packets (joined by the record separator) to a session. */
export async function postPackets(port: number, sid: string, packets: string[], localAddress: string): Promise<RawResponse> {
  return httpRequest(port, "POST", `/socket.io/?EIO=4&transport=polling&sid=${encodeURIComponent(sid)}`, {
    localAddress,
    body: Buffer.from(packets.join(RECORD_SEPARATOR), "utf8"),
    headers: { "Content-Type": "text/plain;charset=UTF-8" },
  });
}

/** GETs the packets waiting for a session (one long-poll). */
export async function pollPackets(port: number, sid: string, localAddress: string): Promise<{ status: number; packets: string[]; text: string }> {
  const response = await httpRequest(port, "GET", `/socket.io/?EIO=4&transport=polling&sid=${encodeURIComponent(sid)}`, { localAddress });
  const text = response.body.toString("utf8");
  return { status: response.status, packets: response.status === 200 ? text.split(RECORD_SEPARATOR) : [], text };
}

/**
 * Sends raw bytes in pieces over one TCP connection, with `gap` ms between pieces (the delay
 * under test: a body split from its head, a character split across segments), and resolves
 * with everything the server sent back until it closed or `idle` ms passed after the last byte.
 */
export function sendInPieces(
  port: number,
  pieces: Buffer[],
  options: { localAddress?: string; gap?: number; responseComplete?: (received: Buffer) => boolean } = {},
): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: "127.0.0.1", port, localAddress: options.localAddress, noDelay: true });
    const received: Buffer[] = [];
    const done = (): void => {
      socket.destroy();
      resolve(Buffer.concat(received));
    };
    socket.on("data", (chunk: Buffer) => {
      received.push(chunk);
      if (options.responseComplete?.(Buffer.concat(received))) done();
    });
    socket.on("end", done);
    socket.on("error", reject);
    const writePieces = async (): Promise<void> => {
      for (const [index, piece] of pieces.entries()) {
        if (index > 0) await new Promise((r) => setTimeout(r, options.gap ?? 50));
        socket.write(piece);
      }
    };
    socket.once("connect", () => void writePieces());
  });
}

/** True once `buffer` holds a complete HTTP response with a Content-Length body. */
export function isCompleteResponse(buffer: Buffer): boolean {
  const end = buffer.indexOf("\r\n\r\n");
  if (end === -1) return false;
  const length = /content-length: *(\d+)/i.exec(buffer.subarray(0, end).toString("latin1"));
  return length !== null && buffer.length >= end + 4 + Number(length[1]);
}
