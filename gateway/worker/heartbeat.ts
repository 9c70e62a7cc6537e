import { asPrimaryMessageOf, ipcMessage, type WorkerToPrimary } from "../ipc.js";
import type { PrimaryChannel } from "./primary-channel.js";

/**
 * Answers the primary's pings. The answer comes from this process's event loop, so a worker
 * that is stopped (SIGSTOP) or stuck in a loop stops giving it, and the primary notices
 * (primary/heartbeat.ts) and stops routing here.
 *
 * Connections handed over need no answer of ours: Node's own NODE_HANDLE_ACK, sent by this
 * event loop as each handle arrives, tells the primary (primary/handoffs.ts). A message of ours
 * per connection, on top of it, was one more IPC write and read per connection; batching it
 * saved nothing measurable (bench/RESULTS.handoff.md).
 */
export function answerPrimary(primary: PrimaryChannel): void {
  process.on("message", (raw: unknown) => {
    const message = asPrimaryMessageOf(raw, "ping");
    if (message) primary.send(ipcMessage<WorkerToPrimary>({ type: "pong", id: message.id }));
  });
}
