import { EventEmitter } from "node:events";
import type { Socket } from "socket.io-client";

/** Records every event that arrives on a client socket, and waits on arrivals. */
export class Inbox extends EventEmitter {
  readonly received: { event: string; args: unknown[] }[] = [];

  constructor(readonly socket: Socket) {
    super();
    socket.onAny((event: string, ...args: unknown[]) => {
      this.received.push({ event, args });
      this.emit("arrival");
    });
  }

  of(event: string): unknown[][] {
    return this.received.filter((entry) => entry.event === event).map((entry) => entry.args);
  }

  /** Resolves once `count` arrivals of `event` have been recorded; rejects naming the event after `timeout` ms. */
  waitFor(event: string, count = 1, timeout = 10_000): Promise<unknown[][]> {
    if (this.of(event).length >= count) return Promise.resolve(this.of(event));
    return new Promise((resolve, reject) => {
      const onArrival = (): void => {
        if (this.of(event).length < count) return;
        clearTimeout(timer);
        this.off("arrival", onArrival);
        resolve(this.of(event));
      };
      const timer = setTimeout(() => {
        this.off("arrival", onArrival);
        reject(new Error(`timed out after ${timeout} ms waiting for ${count} "${event}" at ${this.socket.id} (got ${this.of(event).length})`));
      }, timeout);
      this.on("arrival", onArrival);
    });
  }
}
