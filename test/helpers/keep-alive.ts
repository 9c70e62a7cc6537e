import { connect, type Socket } from "node:net";
import { once } from "node:events";

/** One HTTP/1.1 response read off a raw connection. */
export interface KeepAliveResponse {
  status: number;
  headers: Map<string, string>;
  body: Buffer;
}

/**
 * One TCP connection that carries request after request (HTTP/1.1 keep-alive), as a pooling
 * proxy sends them: every request after the first reaches the gateway on a connection the
 * primary already handed to some worker. Responses must carry Content-Length (every gateway
 * and Engine.IO answer does). Each request waits at most `timeout` ms for its answer.
 */
export class KeepAliveConnection {
  private buffered = Buffer.alloc(0);
  private waiting: (() => void) | undefined;
  private closed = false;

  private constructor(readonly socket: Socket) {
    socket.on("data", (chunk: Buffer) => {
      this.buffered = Buffer.concat([this.buffered, chunk]);
      this.waiting?.();
    });
    socket.on("close", () => {
      this.closed = true;
      this.waiting?.();
    });
    socket.on("error", () => {});
  }

  static async open(port: number, localAddress?: string): Promise<KeepAliveConnection> {
    const socket = connect({ host: "127.0.0.1", port, localAddress, noDelay: true });
    await once(socket, "connect");
    return new KeepAliveConnection(socket);
  }

  /** Sends one request and resolves with its response (rejects if the connection closes first or after `timeout` ms). */
  async request(method: string, path: string, body?: string, timeout = 10_000): Promise<KeepAliveResponse> {
    const payload = body === undefined ? "" : body;
    const head = [`${method} ${path} HTTP/1.1`, "Host: 127.0.0.1", "Connection: keep-alive"];
    if (body !== undefined) head.push("Content-Type: text/plain;charset=UTF-8", `Content-Length: ${Buffer.byteLength(payload)}`);
    this.socket.write(`${head.join("\r\n")}\r\n\r\n${payload}`);
    const deadline = Date.now() + timeout;
    for (;;) {
      const response = this.takeResponse();
      if (response) return response;
      if (this.closed) throw new Error(`${method} ${path}: connection closed before a complete response`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`${method} ${path}: no response within ${timeout} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiting = () => {
          clearTimeout(timer);
          this.waiting = undefined;
          resolve();
        };
      });
    }
  }

  private takeResponse(): KeepAliveResponse | undefined {
    const end = this.buffered.indexOf("\r\n\r\n");
    if (end === -1) return undefined;
    const lines = this.buffered.subarray(0, end).toString("latin1").split("\r\n");
    const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(lines[0])?.[1] ?? 0);
    const headers = new Map<string, string>();
    for (const line of lines.slice(1)) {
      const colon = line.indexOf(":");
      headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
    }
    const length = Number(headers.get("content-length") ?? 0);
    if (this.buffered.length < end + 4 + length) return undefined;
    const body = this.buffered.subarray(end + 4, end + 4 + length);
    this.buffered = this.buffered.subarray(end + 4 + length);
    return { status, headers, body: Buffer.from(body) };
  }

  close(): void {
    this.socket.destroy();
  }
}
