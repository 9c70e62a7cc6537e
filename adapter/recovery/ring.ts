import type { BroadcastOptions } from "socket.io-adapter";
import type { LogOffset } from "./ordered-log.js";

/** A broadcast as a worker delivered it: its packet's data already ends with its offset. */
export interface DeliveredBroadcast {
  offset: LogOffset;
  nsp: string;
  /** The event's arguments, offset last (what a recovered socket is sent again). */
  data: unknown[];
  opts: BroadcastOptions;
}

/**
 * The broadcasts this worker delivered most recently, oldest first, at most `capacity`.
 * A restore reads the log up to some offset, but by the time the socket is created the worker
 * may have delivered a few more entries: those come from here (recovering-adapter.ts).
 */
export class RecentBroadcasts {
  private readonly entries: DeliveredBroadcast[] = [];
  /** The newest entry dropped for room: the window answers only for what comes after it. */
  private lastDropped: LogOffset | undefined;

  constructor(private readonly capacity: number) {}

  add(entry: DeliveredBroadcast): void {
    this.entries.push(entry);
    if (this.entries.length > this.capacity) this.lastDropped = this.entries.splice(0, this.entries.length - this.capacity).at(-1)!.offset;
  }

  /**
   * The entries strictly after `after` and up to `upTo` (inclusive), oldest first; undefined when
   * this window no longer reaches back to `after` (entries were dropped in between).
   */
  between(after: LogOffset, upTo: LogOffset, compare: (a: LogOffset, b: LogOffset) => number): DeliveredBroadcast[] | undefined {
    if (this.lastDropped !== undefined && compare(this.lastDropped, after) > 0) return undefined;
    return this.entries.filter((entry) => compare(entry.offset, after) > 0 && compare(entry.offset, upTo) <= 0);
  }
}
