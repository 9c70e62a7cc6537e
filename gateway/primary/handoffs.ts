import type { Socket } from "node:net";

/** How often unacknowledged hand-offs are checked, in ms. */
const SWEEP_INTERVAL = 500;

interface Pending {
  socket: Socket;
  workerId: number;
  onTimeout: () => void;
}

/**
 * Connections sent to a worker and not yet acknowledged. The primary keeps its copy of each
 * socket until the worker says it took it over: a worker that stopped answering (SIGSTOP, a
 * stuck loop) would otherwise leave the client waiting with nobody to answer, and the primary
 * holding the descriptor in its IPC queue. On the acknowledgement the primary's copy is closed
 * (the worker's stays open).
 *
 * A hand-off is given up only when its worker is silent (`isSilent`: no message of any kind for
 * a while), never for its own age: Node passes one handle at a time per worker and waits for
 * the worker's internal ACK, so in a connect storm on a busy machine a connection can wait in
 * the queue for seconds while its worker answers everything it gets.
 */
export class PendingHandoffs {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private sweeper: NodeJS.Timeout | undefined;

  constructor(private readonly isSilent: (workerId: number) => boolean) {}

  /** Registers a hand-off; returns its id (sent with the connection). `onTimeout` answers the client if the worker goes silent first. */
  add(socket: Socket, workerId: number, onTimeout: () => void): number {
    const id = this.nextId++;
    this.pending.set(id, { socket, workerId, onTimeout });
    if (!this.sweeper) {
      this.sweeper = setInterval(() => this.sweep(), SWEEP_INTERVAL);
      this.sweeper.unref();
    }
    return id;
  }

  /** The worker took the connection over: the primary's copy goes (without closing the connection). */
  acknowledge(id: number, workerId: number): void {
    const entry = this.pending.get(id);
    if (!entry || entry.workerId !== workerId) return;
    this.pending.delete(id);
    // destroy() closes only this process's descriptor: no FIN, the worker's copy carries on.
    entry.socket.destroy();
    this.stopSweeperIfIdle();
  }

  /** The send failed: forget it (the caller closes the socket). */
  cancel(id: number): void {
    this.pending.delete(id);
    this.stopSweeperIfIdle();
  }

  /** A worker exited: the connections it never acknowledged are answered now. */
  workerGone(workerId: number): void {
    this.giveUp((entry) => entry.workerId === workerId);
  }

  private sweep(): void {
    const silent = new Map<number, boolean>();
    this.giveUp((entry) => {
      if (!silent.has(entry.workerId)) silent.set(entry.workerId, this.isSilent(entry.workerId));
      return silent.get(entry.workerId)!;
    });
  }

  private giveUp(which: (entry: Pending) => boolean): void {
    for (const [id, entry] of this.pending) {
      if (!which(entry)) continue;
      this.pending.delete(id);
      entry.onTimeout();
    }
    this.stopSweeperIfIdle();
  }

  private stopSweeperIfIdle(): void {
    if (this.pending.size > 0 || !this.sweeper) return;
    clearInterval(this.sweeper);
    this.sweeper = undefined;
  }
}
