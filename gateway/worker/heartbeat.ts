import { asPrimaryMessage, ipcMessage, type WorkerToPrimary } from "../ipc.js";
import type { PrimaryChannel } from "./primary-channel.js";

/**
 * Answers the primary's pings and acknowledges each connection it hands over. Both answers
 * come from this process's event loop, so a worker that is stopped (SIGSTOP) or stuck in a
 * loop stops giving them, and the primary notices (primary/heartbeat.ts, primary/handoffs.ts):
 * it answers that connection 503 itself and stops routing here.
 *
 * Registered after the worker's own message listener, so a connection is this worker's (its
 * socket taken from the message and given to the HTTP server, at once or two loop turns later:
 * adopt-connection.ts) before its acknowledgement leaves.
 */
export function answerPrimary(primary: PrimaryChannel): void {
  // One acknowledgement per connection, at once: batching them (one message per 20 ms) saved no
  // measurable CPU in a connect storm and left the primary's copy of a socket the worker already
  // serves open longer (bench/RESULTS.handoff.md).
  process.on("message", (raw: unknown) => {
    const message = asPrimaryMessage(raw);
    if (message?.type === "ping") primary.send(ipcMessage<WorkerToPrimary>({ type: "pong", id: message.id }));
    else if (message?.type === "connection") primary.send(ipcMessage<WorkerToPrimary>({ type: "connection-ack", id: message.id }));
  });
}
