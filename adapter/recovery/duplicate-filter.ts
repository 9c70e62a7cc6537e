import type { LogOffset } from "./ordered-log.js";

/**
 * The append ids of the entries read most recently, with the offset each was first read at.
 * ioredis sends a command again when its connection dropped before the answer came (it cannot
 * know whether Redis ran it): an XADD that had run is then in the stream twice, under two
 * offsets. Both carry the same append id, so the second is recognised and dropped, as long as
 * the first is still in this window (a resend comes within a reconnection, well inside it).
 */
export class DuplicateFilter {
  private readonly firstSeen = new Map<string, LogOffset>();

  constructor(private readonly capacity: number) {}

  /** True when `appendId` was first read under another offset (`offset` is a copy); remembers it otherwise. */
  isCopy(appendId: string | undefined, offset: LogOffset): boolean {
    if (appendId === undefined) return false;
    const first = this.firstSeen.get(appendId);
    if (first !== undefined) return first !== offset;
    this.firstSeen.set(appendId, offset);
    if (this.firstSeen.size > this.capacity) this.firstSeen.delete(this.firstSeen.keys().next().value!);
    return false;
  }

  /** True when `appendId` is known under another offset; remembers nothing (for replays, which read old entries again). */
  isKnownCopy(appendId: string | undefined, offset: LogOffset): boolean {
    if (appendId === undefined) return false;
    const first = this.firstSeen.get(appendId);
    return first !== undefined && first !== offset;
  }
}
