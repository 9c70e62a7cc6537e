import type { Socket } from "node:net";

/** How often unacknowledged hand-offs are checked, in ms. */
const SWEEP_INTERVAL = 500;

/** Why the primary answers a hand-off itself: its worker went silent, or said it did not get the socket. */
export type GiveUpReason = "silent" | "not-received";

interface Pending {
  socket: Socket;
  /** Written to the worker's channel (the send callback ran); until then it waits in Node's handle queue. */
  written: boolean;
  giveUp: (reason: GiveUpReason) => void;
}

/**
 * Connections sent to a worker and not yet known to be in its hands. The primary keeps its copy
 * of each socket until then: a worker that stopped answering (SIGSTOP, a stuck loop) would
 * otherwise leave the client waiting with nobody to answer, and the primary holding the
 * descriptor in its IPC queue. Once the worker has it, the primary's copy is closed (the
 * worker's stays open).
 *
 * How the primary knows, without a message of ours per connection: Node passes one handle at a
 * time per worker. It writes a handle, waits for the worker's NODE_HANDLE_ACK (sent by the
 * worker's event loop when the message arrives), and only then writes the next one from its
 * queue, in the order of `send()`. So a hand-off is in the worker's hands (1) when its worker's
 * next NODE_HANDLE_ACK arrives while it is the one written, or (2) when a later hand-off to the
 * same worker is written (Node waited for this one's ACK first). The primary hears (1) on the
 * worker's `internalMessage` event (primary.ts), the channel the cluster module itself uses, and
 * (2) from the send callback. A NODE_HANDLE_NACK (the worker's recvmsg lost the descriptor, e.g.
 * at its fd limit) means the written one never arrived: the primary answers it itself.
 *
 * A hand-off is given up only when its worker is silent (`isSilent`: no message of any kind for
 * a while), never for its own age: in a connect storm on a busy machine a connection can wait in
 * Node's queue for seconds while its worker answers everything it gets.
 */
export class PendingHandoffs {
  private nextId = 1;
  /** Per cluster worker id, its hand-offs in the order they were sent (Map keeps insertion order). */
  private readonly byWorker = new Map<number, Map<number, Pending>>();
  /** Per worker, NODE_HANDLE_ACKs that arrived before their hand-off's send callback (kept as a count, applied when it runs). */
  private readonly acksAhead = new Map<number, number>();
  private size = 0;
  private sweeper: NodeJS.Timeout | undefined;

  constructor(private readonly isSilent: (workerId: number) => boolean) {}

  /** Registers a hand-off (call it right before `send`, in send order); returns its id. `giveUp` answers the client if the worker never gets it. */
  add(socket: Socket, workerId: number, giveUp: (reason: GiveUpReason) => void): number {
    const id = this.nextId++;
    let queue = this.byWorker.get(workerId);
    if (!queue) this.byWorker.set(workerId, (queue = new Map<number, Pending>()));
    queue.set(id, { socket, written: false, giveUp });
    this.size++;
    if (!this.sweeper) {
      this.sweeper = setInterval(() => this.sweep(), SWEEP_INTERVAL);
      this.sweeper.unref();
    }
    return id;
  }

  /** The hand-off was written to its worker's channel: every earlier one to that worker was acknowledged by Node. */
  written(id: number, workerId: number): void {
    const queue = this.byWorker.get(workerId);
    const entry = queue?.get(id);
    if (!queue || !entry) return;
    for (const [earlier] of queue) {
      if (earlier === id) break;
      this.release(queue, earlier);
    }
    entry.written = true;
    const ahead = this.acksAhead.get(workerId) ?? 0;
    if (ahead > 0) {
      this.acksAhead.set(workerId, ahead - 1);
      this.release(queue, id);
    }
  }

  /** The worker's NODE_HANDLE_ACK: the hand-off written last is in its hands. */
  nodeAcknowledged(workerId: number): void {
    const queue = this.byWorker.get(workerId);
    const first = queue?.entries().next().value;
    if (queue && first && first[1].written) this.release(queue, first[0]);
    else this.acksAhead.set(workerId, (this.acksAhead.get(workerId) ?? 0) + 1);
  }

  /** The worker's NODE_HANDLE_NACK: the hand-off written last never reached it; the primary still has the socket. */
  nodeRefused(workerId: number): void {
    const queue = this.byWorker.get(workerId);
    const first = queue?.entries().next().value;
    if (!queue || !first || !first[1].written) return;
    this.forget(queue, first[0]);
    first[1].giveUp("not-received");
  }

  /** The send failed: forget it (the caller closes the socket). */
  cancel(id: number, workerId: number): void {
    const queue = this.byWorker.get(workerId);
    if (queue?.has(id)) this.forget(queue, id);
  }

  /** A worker exited: the connections it never got are answered now. */
  workerGone(workerId: number): void {
    const queue = this.byWorker.get(workerId);
    this.acksAhead.delete(workerId);
    if (queue) this.giveUpAll(workerId, queue);
    this.byWorker.delete(workerId);
  }

  /** How many hand-offs the primary still holds a copy of. */
  get pendingCount(): number {
    return this.size;
  }

  private sweep(): void {
    for (const [workerId, queue] of this.byWorker) if (queue.size > 0 && this.isSilent(workerId)) this.giveUpAll(workerId, queue);
  }

  private giveUpAll(workerId: number, queue: Map<number, Pending>): void {
    // A worker that answers again later gets the ACKs of what it received: none may count for hand-offs made after.
    this.acksAhead.delete(workerId);
    for (const [id, entry] of queue) {
      this.forget(queue, id);
      entry.giveUp("silent");
    }
  }

  /** In the worker's hands: the primary's copy goes (destroy() closes only this process's descriptor: no FIN). */
  private release(queue: Map<number, Pending>, id: number): void {
    const entry = queue.get(id)!;
    this.forget(queue, id);
    entry.socket.destroy();
  }

  private forget(queue: Map<number, Pending>, id: number): void {
    if (!queue.delete(id)) return;
    this.size--;
    if (this.size > 0 || !this.sweeper) return;
    clearInterval(this.sweeper);
    this.sweeper = undefined;
  }
}
