import type { Socket } from "socket.io";

/**
 * A token bucket per socket: `rate` events per second with a burst of the same size.
 * An event over the limit is dropped; if it asked for an acknowledgement it gets
 * `{ ok: false, error }`, so a well-behaved client learns why.
 */
export class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(
    private readonly rate: number,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.tokens = rate;
    this.last = now();
  }

  /** Takes one token; false when the bucket is empty. */
  take(): boolean {
    const now = this.now();
    this.tokens = Math.min(this.rate, this.tokens + ((now - this.last) / 1000) * this.rate);
    this.last = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}

export const RATE_LIMITED = "rate limit exceeded";

/** What the event middleware reports, for the metrics. */
export interface EventCounters {
  received(): void;
  refused(): void;
}

/** A packet's last argument is its acknowledgement callback when it is a function (Socket.IO puts it there). */
function isAcknowledgement(value: unknown): value is (response: { ok: false; error: string }) => void {
  return typeof value === "function";
}

/**
 * Installs the per-socket event middleware: every event is counted, and with `rate` > 0 the
 * ones over the limit are refused (dropped; an acknowledgement gets `{ ok: false, error }`).
 */
export function guardEvents(socket: Socket, rate: number, counters: EventCounters): void {
  const bucket = rate > 0 ? new TokenBucket(rate) : undefined;
  socket.use((packet, next) => {
    counters.received();
    if (!bucket || bucket.take()) return next();
    counters.refused();
    const ack: unknown = packet[packet.length - 1];
    if (isAcknowledgement(ack)) ack({ ok: false, error: RATE_LIMITED });
  });
}
