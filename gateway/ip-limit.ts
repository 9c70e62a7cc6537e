/**
 * Open connections per client IP, as the primary sees them: counted when a connection is
 * handed to a worker, released when that worker reports it closed (or dies).
 * Kept per slot so a dead worker's connections can be released at once.
 */
export class ConnectionCounter {
  private readonly bySlot = new Map<number, Map<string, number>>();

  constructor(private readonly limit: number) {}

  /** True when one more connection from `ip` would exceed the limit (0 = no limit). */
  isFull(ip: string): boolean {
    return this.limit > 0 && this.count(ip) >= this.limit;
  }

  count(ip: string): number {
    let total = 0;
    for (const counts of this.bySlot.values()) total += counts.get(ip) ?? 0;
    return total;
  }

  add(slot: number, ip: string): void {
    let counts = this.bySlot.get(slot);
    if (!counts) this.bySlot.set(slot, (counts = new Map()));
    counts.set(ip, (counts.get(ip) ?? 0) + 1);
  }

  release(slot: number, ip: string): void {
    const counts = this.bySlot.get(slot);
    const current = counts?.get(ip);
    if (counts === undefined || current === undefined) return;
    if (current <= 1) counts.delete(ip);
    else counts.set(ip, current - 1);
  }

  /** Forgets every connection of a slot (its worker exited, so they are closed). */
  releaseSlot(slot: number): void {
    this.bySlot.delete(slot);
  }
}
