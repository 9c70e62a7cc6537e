import { EventEmitter } from "node:events";
import type { Logger } from "pino";
import type { Socket } from "socket.io";
import { GatewayError } from "../../common/errors.js";
import { clampLimit } from "../../adapter/presence/presence-keys.js";
import { publicRecordJson } from "../../adapter/presence/public-record.js";
import { HEARTBEAT_INTERVAL, REAP_INTERVAL } from "../../adapter/presence/timing.js";
import { UNKNOWN_OWNER, type PresenceChange, type PresenceCount, type PresenceMember, type PresenceStore } from "../../adapter/presence/types.js";

export type { PresenceChange, PresenceCount, PresenceMember } from "../../adapter/presence/types.js";

/** Longest room name presence takes (it becomes part of a Redis key and of every change message). */
export const MAX_PRESENCE_ROOM = 256;
/** Members a list returns when the caller names no limit. */
export const DEFAULT_MEMBERS_LIMIT = 100;
/** Most members one list returns. */
export const MAX_MEMBERS_LIMIT = 10_000;

/**
 * Cluster-wide presence for apps (`ctx.presence`): who is in a room and how many, with a
 * notification on every change. A member is a socket id plus a small public record the app
 * chooses, never the handshake. Join and leave cost O(1) whatever the room size; count is one
 * read. A socket leaves every presence room when it disconnects; a worker that dies takes its
 * members with it within the bound of adapter/presence/timing.ts.
 */
export interface GatewayPresence {
  /** Adds the socket to the room's presence (its namespace's) with `info` (a plain object of at most 512 characters of JSON). */
  join(socket: Socket, room: string, info?: Record<string, unknown>): Promise<PresenceCount>;
  /** Removes the socket from the room's presence. */
  leave(socket: Socket, room: string): Promise<PresenceCount>;
  /** How many members the room has across the cluster. */
  count(room: string, namespace?: string): Promise<number>;
  /** Up to `limit` (100, at most 10,000) of the room's members across the cluster. */
  members(room: string, options?: { namespace?: string; limit?: number }): Promise<PresenceMember[]>;
  /** Every change of every room of the cluster (join, leave, expire), on every worker, in `seq` order. */
  on(event: "change", listener: (change: PresenceChange) => void): this;
  off(event: "change", listener: (change: PresenceChange) => void): this;
}

interface LocalMember {
  namespace: string;
  /** room → record JSON */
  rooms: Map<string, string>;
}

function checkRoom(room: unknown): string {
  if (typeof room !== "string" || room.length === 0 || room.length > MAX_PRESENCE_ROOM) {
    throw new GatewayError("ERR_INVALID_PRESENCE", `presence room: expected a non-empty string of at most ${MAX_PRESENCE_ROOM} characters`);
  }
  return room;
}

/**
 * A worker's presence: the store (Redis or the primary), this worker's own memberships (to leave
 * them on disconnect and to re-join them when the store forgot this worker, e.g. after it was
 * hung past its deadline or Redis restarted empty), the heartbeat and the reaper.
 */
export class WorkerPresence extends EventEmitter<{ change: [PresenceChange] }> implements GatewayPresence {
  private readonly local = new Map<string, LocalMember>();
  private readonly timers: NodeJS.Timeout[] = [];
  private resyncing: Promise<void> | undefined;

  constructor(
    private readonly store: PresenceStore,
    private readonly logger: Logger,
  ) {
    super();
    store.onChange((change) => this.emit("change", change));
  }

  /** Registers this worker with the store and starts the heartbeat and the reaper. */
  async start(): Promise<void> {
    await this.store.heartbeat();
    // One warning per outage: the adapter already reports Redis going away.
    let failing = false;
    const beat = (): void => {
      this.store.heartbeat().then(
        (known) => {
          failing = false;
          if (!known) void this.resync("the store had forgotten this worker");
        },
        (error: Error) => {
          this.logger[failing ? "debug" : "warn"]({ err: error.message }, "presence heartbeat failed");
          failing = true;
        },
      );
    };
    const reap = (): void => void this.store.reap().catch((error: Error) => this.logger.debug({ err: error.message }, "presence reap failed"));
    this.timers.push(setInterval(beat, HEARTBEAT_INTERVAL).unref(), setInterval(reap, REAP_INTERVAL).unref());
  }

  async join(socket: Socket, room: string, info?: Record<string, unknown>): Promise<PresenceCount> {
    checkRoom(room);
    const infoJson = publicRecordJson(info);
    const namespace = socket.nsp.name;
    if (!socket.connected) throw new GatewayError("ERR_INVALID_PRESENCE", "presence: the socket is disconnected");
    // Recorded before the store is asked: a disconnect from now on sends its leave after this join, on the same ordered channel.
    let member = this.local.get(socket.id);
    if (!member) {
      member = { namespace, rooms: new Map() };
      this.local.set(socket.id, member);
      socket.once("disconnect", () => this.forget(socket.id));
    }
    member.rooms.set(room, infoJson);
    const joined = await this.store.join(namespace, room, socket.id, infoJson);
    if (joined !== UNKNOWN_OWNER) return joined;
    await this.resync("a join found this worker forgotten");
    const retried = await this.store.join(namespace, room, socket.id, infoJson);
    if (retried === UNKNOWN_OWNER) throw new GatewayError("ERR_PRESENCE_UNAVAILABLE", "presence: the store keeps forgetting this worker");
    return retried;
  }

  async leave(socket: Socket, room: string): Promise<PresenceCount> {
    checkRoom(room);
    this.local.get(socket.id)?.rooms.delete(room);
    return this.store.leave(socket.nsp.name, room, socket.id);
  }

  count(room: string, namespace = "/"): Promise<number> {
    return this.store.count(namespace, checkRoom(room));
  }

  members(room: string, options: { namespace?: string; limit?: number } = {}): Promise<PresenceMember[]> {
    const limit = clampLimit(options.limit, DEFAULT_MEMBERS_LIMIT, MAX_MEMBERS_LIMIT);
    return this.store.members(options.namespace ?? "/", checkRoom(room), limit);
  }

  private forget(id: string): void {
    const member = this.local.get(id);
    this.local.delete(id);
    for (const room of member?.rooms.keys() ?? []) {
      this.store
        .leave(member!.namespace, room, id)
        .catch((error: Error) => this.logger.debug({ room, err: error.message }, "presence leave on disconnect failed"));
    }
  }

  /** Heartbeat, then every local membership again (idempotent joins); one at a time. */
  private resync(reason: string): Promise<void> {
    this.resyncing ??= (async () => {
      this.logger.warn({ reason, sockets: this.local.size }, "presence: re-joining this worker's members");
      await this.store.heartbeat();
      const joins: Promise<unknown>[] = [];
      for (const [id, member] of this.local) for (const [room, info] of member.rooms) joins.push(this.store.join(member.namespace, room, id, info));
      await Promise.allSettled(joins);
    })().finally(() => (this.resyncing = undefined));
    return this.resyncing;
  }

  /** Stops the timers and closes the store (a draining worker: its remaining members go at once). */
  async close(): Promise<void> {
    for (const timer of this.timers) clearInterval(timer);
    await this.store.close();
  }
}
