import { EventEmitter } from "node:events";
import type { Logger } from "pino";

export type LifecycleState = "starting" | "ready" | "draining" | "closed";

const ORDER: readonly LifecycleState[] = ["starting", "ready", "draining", "closed"];

/**
 * The state of a process (primary or worker). Every change goes through `setState()`, which
 * logs `ready -> draining` and emits the new state, so the primary and the tests wait on events.
 * States only move forward.
 */
export class Lifecycle extends EventEmitter<Record<LifecycleState, []>> {
  private current: LifecycleState = "starting";

  constructor(private readonly logger: Logger) {
    super();
  }

  get state(): LifecycleState {
    return this.current;
  }

  /** Moves to `next`; returns false (and does nothing) when already there or past it. */
  setState(next: LifecycleState): boolean {
    if (ORDER.indexOf(next) <= ORDER.indexOf(this.current)) return false;
    this.logger.info(`${this.current} -> ${next}`);
    this.current = next;
    this.emit(next);
    return true;
  }
}
