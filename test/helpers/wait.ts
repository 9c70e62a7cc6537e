import { once, type EventEmitter } from "node:events";

/**
 * An emitter that is not Node's (socket.io-client and engine.io-client sockets) but has the
 * methods `once()` uses. Their event names and listeners are typed per emitter, so the methods
 * are only required to exist, whatever their parameters (`never[]` accepts every signature).
 */
interface ListenerTarget {
  once: (...args: never[]) => unknown;
  off: (...args: never[]) => unknown;
}

/** Resolves with the event's arguments; rejects naming the event if it does not come within `timeout` ms. */
export async function waitFor<T extends unknown[] = unknown[]>(emitter: EventEmitter | ListenerTarget, event: string, timeout = 10_000): Promise<T> {
  const signal = AbortSignal.timeout(timeout);
  try {
    return (await once(emitter as EventEmitter, event, { signal })) as T;
  } catch (error) {
    if (signal.aborted) throw new Error(`timed out after ${timeout} ms waiting for "${event}"`);
    throw error;
  }
}

/**
 * Polls `predicate` (for states that have no event, such as "the port answers") until it holds;
 * rejects with `description` after `timeout` ms.
 */
export async function waitUntil(predicate: () => boolean | Promise<boolean>, description: string, timeout = 10_000, interval = 50): Promise<void> {
  const deadline = Date.now() + timeout;
  for (;;) {
    if (await predicate()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeout} ms waiting until ${description}`);
    await new Promise((resolve) => setTimeout(resolve, interval));
  }
}
