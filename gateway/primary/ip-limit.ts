/** The holder of connections still in the primary (reading their head, or refused and lingering); cluster worker ids start at 1. */
export const PRIMARY_HOLDER = 0;

/**
 * Open connections per client IP, as the primary sees them: counted from accept (held by
 * PRIMARY_HOLDER, refused ones too while they are open), moved to a worker at the hand-off,
 * released when that worker reports it closed (or exits).
 * Kept per worker (cluster worker id, not slot: during a rolling restart two workers share a
 * slot) so an exited worker's connections are released at once.
 */
export class ConnectionCounter {
  private readonly byWorker = new Map<number, Map<string, number>>();

  constructor(private readonly limit: number) {}

  /** True when one more connection from `ip` would exceed the limit (0 = no limit). */
  isFull(ip: string): boolean {
    return this.limit > 0 && this.count(ip) >= this.limit;
  }

  count(ip: string): number {
    let total = 0;
    for (const counts of this.byWorker.values()) total += counts.get(ip) ?? 0;
    return total;
  }

  add(workerId: number, ip: string): void {
    let counts = this.byWorker.get(workerId);
    if (!counts) this.byWorker.set(workerId, (counts = new Map<string, number>()));
    counts.set(ip, (counts.get(ip) ?? 0) + 1);
  }

  release(workerId: number, ip: string): void {
    const counts = this.byWorker.get(workerId);
    const current = counts?.get(ip);
    if (counts === undefined || current === undefined) return;
    if (current <= 1) counts.delete(ip);
    else counts.set(ip, current - 1);
  }

  /** Moves one connection of `ip` from one holder to another (the primary hands it to a worker). */
  move(from: number, to: number, ip: string): void {
    this.release(from, ip);
    this.add(to, ip);
  }

  /** Forgets every connection of a worker (it exited, so they are closed). */
  releaseWorker(workerId: number): void {
    this.byWorker.delete(workerId);
  }
}
