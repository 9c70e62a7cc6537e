import type { Socket } from "node:net";
import { restartHandle } from "./read-stop.js";

const REASONS: Readonly<Record<number, string>> = {
  400: "Bad Request",
  408: "Request Timeout",
  429: "Too Many Requests",
  431: "Request Header Fields Too Large",
  503: "Service Unavailable",
};

/** How long a refused connection may linger after its response, in ms, before it is destroyed. */
const LINGER_TIMEOUT = 2000;

/**
 * Answers a connection the primary will not hand over, then closes it. Reading resumes (and
 * discards) so the client's FIN is seen and no unread data turns the close into a reset that
 * would swallow the response. The head reader stopped the handle itself, which `resume()`
 * alone does not restart: a refused connection would linger (and count against its IP) until
 * the timer.
 */
export function refuseConnection(socket: Socket, status: keyof typeof REASONS, detail: string): void {
  if (socket.destroyed) return;
  const body = `${detail}\n`;
  restartHandle(socket);
  socket.resume();
  socket.end(
    `HTTP/1.1 ${status} ${REASONS[status] ?? "Error"}\r\nConnection: close\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
  setTimeout(() => socket.destroy(), LINGER_TIMEOUT).unref();
}
