import type { Socket } from "node:net";

/** How long a worker has to acknowledge a connection before the primary answers it 503 itself, in ms. */
export const HANDOFF_ACK_TIMEOUT = 3000;

interface Pending {
  socket: Socket;
  workerId: number;
  timer: NodeJS.Timeout;
  onTimeout: () => void;
}

/**
 * Connections sent to a worker and not yet acknowledged. The primary keeps its copy of each
 * socket until the worker says it took it over: a worker that stopped answering (SIGSTOP, a
 * stuck loop) would otherwise leave the client waiting with nobody to answer, and the primary
 * holding the descriptor in its IPC queue. On the acknowledgement the primary's copy is
 * closed (the worker's stays open); on a timeout `onTimeout` answers the client.
 */
export class PendingHandoffs {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();

  /** Registers a hand-off; returns its id (sent with the connection). */
  add(socket: Socket, workerId: number, onTimeout: () => void): number {
    const id = this.nextId++;
    const timer = setTimeout(() => {
      this.pending.delete(id);
      onTimeout();
    }, HANDOFF_ACK_TIMEOUT);
    this.pending.set(id, { socket, workerId, timer, onTimeout });
    return id;
  }

  /** The worker took the connection over: the primary's copy goes (without closing the connection). */
  acknowledge(id: number, workerId: number): void {
    const entry = this.pending.get(id);
    if (!entry || entry.workerId !== workerId) return;
    this.settle(id, entry);
  }

  /** The send failed: forget it (the caller closes the socket). */
  cancel(id: number): void {
    const entry = this.pending.get(id);
    if (entry) {
      clearTimeout(entry.timer);
      this.pending.delete(id);
    }
  }

  /** A worker exited: the connections it never acknowledged are answered now (as on a timeout). */
  workerGone(workerId: number): void {
    for (const [id, entry] of this.pending) {
      if (entry.workerId !== workerId) continue;
      clearTimeout(entry.timer);
      this.pending.delete(id);
      entry.onTimeout();
    }
  }

  private settle(id: number, entry: Pending): void {
    clearTimeout(entry.timer);
    this.pending.delete(id);
    // destroy() closes only this process's descriptor: no FIN, the worker's copy carries on.
    entry.socket.destroy();
  }
}
