import type { IncomingMessage, Server as HttpServer } from "node:http";
import type { Socket } from "node:net";
import { ipcMessage, type WorkerToPrimary } from "../ipc.js";
import { refuseConnection } from "../primary/responses.js";

/**
 * The front door of connections the primary handed over on accept, before reading anything
 * (every client not behind a `--trust-proxy` address, primary/primary.ts): the limits the
 * primary applies while it reads a head are applied here, to the first request of each such
 * connection, with the same answers (routing guarantee 5):
 * - `--header-timeout`: no complete first request head in time → 408 and close (one sweep
 *   timer for all connections, no timer per connection);
 * - `--max-pending-heads`: this worker holds at most its share of connections still sending
 *   their first head; past it → 503 and close;
 * - `--max-header-size` and malformed heads: Node's HTTP parser (the worker's server has the
 *   same `maxHeaderSize`) answers 431 and 400 as Node does; they are counted here.
 * Refusals and forwarding headers from an untrusted peer are reported to the primary (batched
 * per loop turn), which counts them in its metrics as it counts its own and warns once.
 */

/** How a connection's first request ended before it was served, as the primary names it (metric label). */
type Refusal = "header-timeout" | "header-size" | "bad-request" | "pending-heads";

export interface FrontDoorLimits {
  headerTimeout: number;
  maxPendingHeads: number;
  workers: number;
}

const doors = new WeakMap<HttpServer, FrontDoor>();

export class FrontDoor {
  /** Connections handed over on accept whose first request head is not complete yet, with when they arrived (Date.now()). */
  private readonly pending = new Map<Socket, number>();
  /** This worker's share of --max-pending-heads (the primary's cap is cluster-wide). */
  private readonly cap: number;
  private readonly sweepEvery: number;
  private sweeper: NodeJS.Timeout | undefined;
  private rejected: Partial<Record<Refusal, number>> = {};
  private untrustedForwarded = 0;
  private reportScheduled = false;

  private constructor(
    server: HttpServer,
    private readonly limits: FrontDoorLimits,
    private readonly send: (message: WorkerToPrimary) => void,
  ) {
    this.cap = Math.max(1, Math.ceil(limits.maxPendingHeads / Math.max(1, limits.workers)));
    this.sweepEvery = Math.min(1000, Math.max(50, Math.floor(limits.headerTimeout / 4)));
    server.on("clientError", (error: NodeJS.ErrnoException, socket: Socket) => this.onClientError(server, error, socket));
  }

  /** Puts a front door on a worker's HTTP server (once; the request router does it). */
  static install(server: HttpServer, limits: FrontDoorLimits, send: (message: WorkerToPrimary) => void): FrontDoor {
    let door = doors.get(server);
    if (!door) doors.set(server, (door = new FrontDoor(server, limits, send)));
    return door;
  }

  /** The server's front door, if it has one. */
  static of(server: HttpServer): FrontDoor | undefined {
    return doors.get(server);
  }

  /** A connection handed over on accept, not yet given to the HTTP server. False: refused here (answered and closed). */
  admit(socket: Socket): boolean {
    if (this.pending.size >= this.cap) {
      this.count("pending-heads");
      refuseConnection(socket, 503, "too many connections waiting to send their request");
      return false;
    }
    this.pending.set(socket, Date.now());
    this.sweeper ??= setInterval(() => this.sweep(), this.sweepEvery).unref();
    return true;
  }

  /** A request head arrived (every request and upgrade passes here; only a connection's first one matters). */
  served(req: IncomingMessage): void {
    if (this.pending.size === 0 || !this.pending.delete(req.socket)) return;
    // Direct clients only come here (the primary reads the head of a --trust-proxy peer's connection itself).
    const headers = req.headers;
    if (headers["x-forwarded-for"] !== undefined || headers["x-real-ip"] !== undefined || headers.forwarded !== undefined) {
      this.untrustedForwarded++;
      this.scheduleReport();
    }
  }

  private sweep(): void {
    const expired = Date.now() - this.limits.headerTimeout;
    for (const [socket, arrived] of this.pending) {
      if (socket.destroyed) this.pending.delete(socket);
      else if (arrived <= expired) {
        this.pending.delete(socket);
        this.count("header-timeout");
        // As Node answers its own request timeout: the response, then the socket goes (the parser must not answer later bytes).
        const body = `no complete request head within ${this.limits.headerTimeout} ms\n`;
        socket.write(
          `HTTP/1.1 408 Request Timeout\r\nConnection: close\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
        );
        socket.destroy();
      }
    }
    if (this.pending.size === 0 && this.sweeper) {
      clearInterval(this.sweeper);
      this.sweeper = undefined;
    }
  }

  /**
   * Node's parser refused a head (too large, malformed). Counted when it was a pending first
   * head; answered as Node answers without a listener (lib/_http_server.js socketOnError),
   * unless the app listens for clientError too (then the app answers, as on a plain server).
   */
  private onClientError(server: HttpServer, error: NodeJS.ErrnoException, socket: Socket): void {
    if (this.pending.delete(socket)) {
      this.count(error.code === "HPE_HEADER_OVERFLOW" ? "header-size" : error.code === "ERR_HTTP_REQUEST_TIMEOUT" ? "header-timeout" : "bad-request");
    }
    if (server.listenerCount("clientError") > 1) return;
    const inFlight = (socket as Socket & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
    if (socket.writable && !inFlight?.headersSent) {
      const status =
        error.code === "HPE_HEADER_OVERFLOW"
          ? "431 Request Header Fields Too Large"
          : error.code === "HPE_CHUNK_EXTENSIONS_OVERFLOW"
            ? "413 Payload Too Large"
            : error.code === "ERR_HTTP_REQUEST_TIMEOUT"
              ? "408 Request Timeout"
              : "400 Bad Request";
      socket.write(`HTTP/1.1 ${status}\r\nConnection: close\r\n\r\n`);
    }
    socket.destroy(error);
  }

  private count(reason: Refusal): void {
    this.rejected[reason] = (this.rejected[reason] ?? 0) + 1;
    this.scheduleReport();
  }

  private scheduleReport(): void {
    if (this.reportScheduled) return;
    this.reportScheduled = true;
    setImmediate(() => {
      this.reportScheduled = false;
      const rejected = this.rejected as Record<string, number>;
      this.rejected = {};
      const untrustedForwarded = this.untrustedForwarded;
      this.untrustedForwarded = 0;
      this.send(ipcMessage<WorkerToPrimary>({ type: "front-door", rejected, untrustedForwarded }));
    });
  }
}
