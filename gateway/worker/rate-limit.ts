import type { Socket } from "socket.io";

/** The default clock: one function for every bucket (a default arrow would be a closure per socket). */
const monotonicNow = (): number => performance.now();

/**
 * A token bucket per socket: `rate` events per second with a burst of the same size.
 */
export class TokenBucket {
  private tokens: number;
  private last: number;
  /** When the socket was last told about a refused event (see guardEvents). */
  lastNotice = -Infinity;

  constructor(
    private readonly rate: number,
    private readonly now: () => number = monotonicNow,
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

/**
 * The gateway's own event to a socket whose events were refused. Namespaced with `sio-gateway:`
 * so it cannot be mistaken for (or collide with) an event of the app.
 */
export const RATE_LIMITED_EVENT = "sio-gateway:rate-limited";

/** The payload of RATE_LIMITED_EVENT: the event that was refused and the limit (events per second). */
export interface RateLimitedNotice {
  event: string;
  limit: number;
}

/** How often, at most, one socket is told about refused events (ms): a flood must not become a flood back. */
export const RATE_LIMITED_NOTICE_INTERVAL = 1000;

/** What the event middleware reports, for the metrics. */
export interface EventCounters {
  received(): void;
  refused(): void;
}

/**
 * Installs the per-socket event middleware: every event is counted, and with `rate` > 0 the
 * ones over the limit are refused: dropped and counted, and the socket gets RATE_LIMITED_EVENT
 * at most once per RATE_LIMITED_NOTICE_INTERVAL.
 *
 * A refused event's acknowledgement is never called: the ack belongs to the app, and an answer
 * of the gateway's shape would reach code typed for the app's answers. A client that emits
 * with `.timeout()` gets its timeout, as when any event is lost.
 *
 * Memory (bench/memory.ts): most sockets sit idle, so an idle one costs as little as possible:
 * with `rate` 0 every socket shares one counting function; with a limit, one small closure per
 * socket and its bucket only from its first event.
 */
export function guardEvents(socket: Socket, rate: number, counters: EventCounters, now: () => number = monotonicNow): void {
  if (rate <= 0) {
    socket.use(countingMiddleware(counters));
    return;
  }
  let bucket: TokenBucket | undefined;
  socket.use((packet, next) => {
    counters.received();
    bucket ??= new TokenBucket(rate, now);
    if (bucket.take()) return next();
    counters.refused();
    const at = now();
    if (at - bucket.lastNotice < RATE_LIMITED_NOTICE_INTERVAL) return;
    bucket.lastNotice = at;
    const notice: RateLimitedNotice = { event: String(packet[0]), limit: rate };
    socket.emit(RATE_LIMITED_EVENT, notice);
  });
}

type Middleware = Parameters<Socket["use"]>[0];
const counting = new WeakMap<EventCounters, Middleware>();

/** One middleware per set of counters, shared by every socket (it needs no socket). */
function countingMiddleware(counters: EventCounters): Middleware {
  let middleware = counting.get(counters);
  if (!middleware) {
    middleware = (_packet, next) => {
      counters.received();
      next();
    };
    counting.set(counters, middleware);
  }
  return middleware;
}
