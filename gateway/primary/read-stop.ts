import type { Socket } from "node:net";

/**
 * The one private Node API the gateway relies on, kept here alone.
 *
 * Before the primary hands a socket to a worker it must stop the TCP handle from reading:
 * `socket.pause()` only stops the stream from emitting, while libuv keeps reading into the
 * stream's buffer, and those bytes (often a POST body in a second segment) would die with the
 * primary's copy of the socket. Node offers no public way to stop a handle's reads (`pause()`
 * does it only for sockets created with `onread`), so this calls libuv's `readStop()` on
 * `socket._handle`, as `net.Socket#_final` and `tryReadStart` in lib/net.js do themselves.
 *
 * Pinned by test/unit/read-stop.test.ts, which runs on every Node the suite runs on (20 and 24):
 * bytes written after the stop stay in the kernel and reach whoever reads the handle next.
 */

/** The parts of libuv's stream handle (TCPWrap) that net.Socket keeps private. */
interface StreamHandle {
  reading: boolean;
  readStop(): number;
  /** Checked before use: only restartHandle needs it. */
  readStart?(): number;
}

function handleOf(socket: Socket): StreamHandle | null {
  const handle = (socket as unknown as { _handle?: unknown })._handle;
  if (typeof handle !== "object" || handle === null) return null;
  const candidate = handle as Partial<StreamHandle>;
  return typeof candidate.readStop === "function" && typeof candidate.reading === "boolean" ? (candidate as StreamHandle) : null;
}

/** True when this Node's sockets expose the handle this module needs (test/unit/read-stop.test.ts asserts it on every Node CI runs). */
export function canStopHandle(socket: Socket): boolean {
  return handleOf(socket) !== null;
}

/** Stops the TCP handle from reading; what the client sends later stays in the kernel's buffer. */
export function stopHandle(socket: Socket): void {
  const handle = handleOf(socket);
  if (handle && handle.reading) {
    handle.reading = false;
    handle.readStop();
  }
}

/**
 * Starts a stopped handle reading again (a refused connection: the primary reads and discards
 * until the client's FIN, so the socket closes when the client goes rather than after the linger
 * timer). Sets `reading` first, as `tryReadStart` in lib/net.js does, so a later `resume()`
 * does not start it twice.
 */
export function restartHandle(socket: Socket): void {
  const handle = handleOf(socket);
  if (handle && !handle.reading && typeof handle.readStart === "function") {
    handle.reading = true;
    handle.readStart();
  }
}
