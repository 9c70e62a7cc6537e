/** The fan-out measure that bench/load.ts (socket.io-client) and bench/recovery.ts (raw clients) share. */

const now = (): number => performance.timeOrigin + performance.now();

export interface FloodCount {
  received: number;
  /** From the start to the last delivery. */
  seconds: number;
}

/**
 * Starts a flood and counts its deliveries. `listen` gets the function every delivery must call;
 * `start` sends the flood. Bounded: every delivery, or 3 s without one (the rest is loss), or 60 s in all.
 */
export async function countFlood(expected: number, listen: (delivered: () => void) => void, start: () => void): Promise<FloodCount> {
  let received = 0;
  let last = 0;
  let done: () => void = () => {};
  const finished = new Promise<void>((resolve) => (done = resolve));
  listen(() => {
    last = now();
    if (++received === expected) done();
  });
  const started = now();
  start();
  const quiet = setInterval(() => {
    if (now() - Math.max(last, started) > 3000 || now() - started > 60_000) done();
  }, 250);
  await finished;
  clearInterval(quiet);
  return { received, seconds: ((last || now()) - started) / 1000 };
}
