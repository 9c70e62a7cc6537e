import type { Server } from "socket.io";
import type { PresenceChange, PresenceCount } from "../gateway/worker/presence.js";

/** How long a worker gathers a room's changes before it tells its sockets the count, in ms. */
export const ANNOUNCE_DELAY = 100;

/**
 * The demo's `members` events. Every worker hears every presence change of the cluster (in `seq`
 * order) and tells only its own sockets in that room (`io.local`): one message per worker per
 * change, never one per member. Changes are gathered for ANNOUNCE_DELAY ms, so 1,000 joins at once
 * cost each socket a handful of events, not 1,000; the newest count (highest `seq`) wins, so a
 * socket's last `members` is the room's count after the last change. `noteJoin` runs after a join's
 * ack, so the joiner's own last word is an event, not its (possibly older) ack.
 */
export class MembersAnnouncer {
  private readonly latest = new Map<string, PresenceCount>();
  private readonly due = new Set<string>();
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly io: Server) {}

  /** A change heard from presence (every room of the cluster; only "/" is the demo's). */
  onChange(change: PresenceChange): void {
    if (change.namespace === "/") this.note(change.room, change);
  }

  /** The count a join or leave of this worker answered with. */
  note(room: string, count: PresenceCount): void {
    const known = this.latest.get(room);
    if (!known || count.seq > known.seq) this.latest.set(room, { count: count.count, seq: count.seq });
    this.due.add(room);
    this.timer ??= setTimeout(() => this.flush(), ANNOUNCE_DELAY);
  }

  private flush(): void {
    this.timer = undefined;
    for (const room of this.due) {
      const known = this.latest.get(room)!;
      // A room nobody here is in any more needs no memory: the next change brings a fresh count.
      if (!this.io.of("/").adapter.rooms.has(room)) this.latest.delete(room);
      else this.io.local.to(room).emit("members", { room, members: known.count });
    }
    this.due.clear();
  }
}
