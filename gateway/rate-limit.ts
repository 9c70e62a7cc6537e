import type { Socket } from "socket.io";

/**
 * A token bucket per socket: `rate` events per second with a burst of the same size.
 * An event over the limit is dropped; if it asked for an acknowledgement it gets
 * `{ ok: false, error }`, so a well-behaved client learns why.
 */
export class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(private readonly rate: number, private readonly now: () => number = () => performance.now()) {
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

/** Installs the per-socket limit as Socket.IO middleware; 0 turns it off. `onRefused` is called for each refused event. */
export function limitEventRate(socket: Socket, rate: number, onRefused: () => void): void {
  if (rate <= 0) return;
  const bucket = new TokenBucket(rate);
  socket.use((packet, next) => {
    if (bucket.take()) return next();
    onRefused();
    const ack = packet[packet.length - 1];
    if (typeof ack === "function") ack({ ok: false, error: RATE_LIMITED });
  });
}
