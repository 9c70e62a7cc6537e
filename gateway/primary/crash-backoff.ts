/**
 * How long a slot waits before its next worker is forked after a crash. Pure, so it is
 * unit-tested.
 *
 * A worker that served for at least `minHealthyUptime` ms since it became ready counts as
 * healthy: its slot is respawned at once and its crash count resets. One that died sooner, or
 * before it was ever ready (its start-up, Redis and the app's set-up included, however long
 * that took), is crashing: 100 ms, doubled per consecutive crash, at most `maxDelay`.
 */
export class CrashBackoff {
  private readonly crashes = new Map<number, number>();

  constructor(
    private readonly minHealthyUptime = 5000,
    private readonly maxDelay = 10_000,
  ) {}

  /**
   * Records an exit of the slot's worker and returns the delay before the next fork, in ms.
   * `readyFor` is how long the worker had been ready (ms), undefined when it never was.
   */
  onExit(slot: number, readyFor: number | undefined): { crashes: number; delay: number } {
    const healthy = readyFor !== undefined && readyFor >= this.minHealthyUptime;
    const crashes = healthy ? 0 : (this.crashes.get(slot) ?? 0) + 1;
    this.crashes.set(slot, crashes);
    return { crashes, delay: crashes === 0 ? 0 : Math.min(100 * 2 ** (crashes - 1), this.maxDelay) };
  }
}
