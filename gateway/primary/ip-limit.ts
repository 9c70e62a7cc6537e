/**
 * Open connections per client IP, as the primary sees them: counted when a connection is
 * handed to a worker, released when that worker reports it closed (or exits).
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

  /** Forgets every connection of a worker (it exited, so they are closed). */
  releaseWorker(workerId: number): void {
    this.byWorker.delete(workerId);
  }
}
