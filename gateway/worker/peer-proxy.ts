import { Agent, request, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from "node:http";
import type { Duplex } from "node:stream";
import { ADMIN_HEADER } from "./private-endpoints.js";

/**
 * Forwards one HTTP request (or WebSocket upgrade) to a peer worker over its Unix socket and
 * relays the answer: the path taken by a request that reached the wrong worker on a reused
 * keep-alive connection (worker/request-router.ts).
 *
 * Why a proxy hop and not a hand-back of the connection to the primary: once Node's HTTP
 * parser owns a socket there is no public way to take it back with the bytes it consumed, and
 * the connection's next requests may belong here again. Only misrouted requests pay the hop;
 * http-proxy would do the same relaying but brings a dependency for ~100 lines.
 */

/** Header that carries the client IP to the peer; trusted only on the peer's private Unix socket. */
export const CLIENT_IP_HEADER = "x-sio-gateway-client-ip";

/** Hop-by-hop headers (RFC 9110 §7.6.1): they describe one connection, not the request. */
const HOP_BY_HOP = ["connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade", "te", "trailer"];

function endToEnd(headers: IncomingHttpHeaders, keepUpgrade: boolean): IncomingHttpHeaders {
  const copy = { ...headers };
  for (const name of HOP_BY_HOP) if (!(keepUpgrade && (name === "connection" || name === "upgrade"))) delete copy[name];
  return copy;
}

/** A response head in wire format, for relaying onto a raw socket (upgrades): Connection: close unless switching protocols. */
function rawResponseHead(response: IncomingMessage, switching: boolean): string {
  const lines = [`HTTP/1.1 ${response.statusCode ?? 502} ${response.statusMessage ?? ""}`];
  for (let i = 0; i < response.rawHeaders.length; i += 2) {
    const name = response.rawHeaders[i];
    if (!switching && HOP_BY_HOP.includes(name.toLowerCase())) continue;
    if (!switching && name.toLowerCase() === "content-length") continue;
    lines.push(`${name}: ${response.rawHeaders[i + 1]}`);
  }
  if (!switching) lines.push("Connection: close");
  return `${lines.join("\r\n")}\r\n\r\n`;
}

/** Anything that can be aborted when its peer stops answering. */
export interface Forwarded {
  abort(reason: string): void;
}

export class PeerProxy {
  /** One keep-alive pool per peer socket path (Agent keys its pools by socketPath). */
  private readonly agent = new Agent({ keepAlive: true });

  /** Forwards a plain request; `done` runs once it is over, however it ended. */
  forward(req: IncomingMessage, res: ServerResponse, socketPath: string, clientIp: string, admin: boolean, done: () => void): Forwarded {
    const outgoing = request({
      socketPath,
      agent: this.agent,
      method: req.method,
      path: req.url,
      headers: peerHeaders(endToEnd(req.headers, false), clientIp, admin),
    });
    const fail = (status: number, message: string): void => {
      if (!res.headersSent) res.writeHead(status, { "Content-Type": "text/plain; charset=utf-8", Connection: "close" }).end(`${message}\n`);
      else res.destroy();
    };
    outgoing.on("response", (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.statusMessage, endToEnd(answer.headers, false));
      answer.pipe(res);
      answer.on("error", () => res.destroy());
    });
    outgoing.on("error", (error) => fail(502, `the worker that owns this request did not answer: ${error.message}`));
    res.once("close", () => {
      if (!outgoing.destroyed && !res.writableFinished) outgoing.destroy();
      done();
    });
    req.pipe(outgoing);
    return {
      abort: (reason) => {
        fail(503, reason);
        outgoing.destroy();
      },
    };
  }

  /** Forwards a WebSocket upgrade: the peer's 101 and then both directions, byte for byte. */
  forwardUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer, socketPath: string, clientIp: string, admin: boolean, done: () => void): Forwarded {
    // No pooling: the peer's socket becomes the tunnel.
    const outgoing = request({
      socketPath,
      agent: false,
      method: req.method,
      path: req.url,
      headers: peerHeaders(endToEnd(req.headers, true), clientIp, admin),
    });
    let tunnel: Duplex | undefined;
    const close = (): void => {
      socket.destroy();
      tunnel?.destroy();
    };
    socket.on("error", close);
    socket.once("close", () => {
      close();
      outgoing.destroy();
      done();
    });
    outgoing.on("upgrade", (answer, peerSocket, peerHead) => {
      tunnel = peerSocket;
      peerSocket.on("error", close);
      peerSocket.once("close", close);
      socket.write(rawResponseHead(answer, true));
      if (peerHead.length > 0) socket.write(peerHead);
      if (head.length > 0) peerSocket.write(head);
      peerSocket.pipe(socket);
      socket.pipe(peerSocket);
    });
    outgoing.on("response", (answer) => {
      socket.write(rawResponseHead(answer, false));
      answer.pipe(socket);
    });
    outgoing.on("error", (error) => {
      if (!tunnel && socket.writable) socket.end(plainResponse(502, `the worker that owns this session did not answer: ${error.message}`));
      else close();
    });
    outgoing.end();
    return {
      abort: (reason) => {
        if (!tunnel && socket.writable) socket.end(plainResponse(503, reason));
        else close();
        outgoing.destroy();
      },
    };
  }

  close(): void {
    this.agent.destroy();
  }
}

/** The request's headers for the peer: ours replace whatever the client sent under the same names. */
function peerHeaders(headers: IncomingHttpHeaders, clientIp: string, admin: boolean): IncomingHttpHeaders {
  const copy: IncomingHttpHeaders = { ...headers, [CLIENT_IP_HEADER]: clientIp };
  if (admin) copy[ADMIN_HEADER] = "1";
  else delete copy[ADMIN_HEADER];
  return copy;
}

function plainResponse(status: 502 | 503, message: string): string {
  const body = `${message}\n`;
  const reason = status === 502 ? "Bad Gateway" : "Service Unavailable";
  return `HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
}
