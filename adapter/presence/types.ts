/** A room member as presence shows it: the socket id and the small public record the app chose (never the handshake). */
export interface PresenceMember {
  id: string;
  info: Record<string, unknown>;
}

/**
 * A room's count after a change. `seq` orders every change of the cluster's presence: of two
 * counts of one room, the one with the higher `seq` is the newer (across workers and processes).
 */
export interface PresenceCount {
  count: number;
  seq: number;
}

/** What changed: a member joined or left, or the members of a dead worker expired (then no `member`). */
export type PresenceChangeKind = "join" | "leave" | "expire";

/** One change of one room, sent to every worker (join/leave notifications). */
export interface PresenceChange extends PresenceCount {
  namespace: string;
  room: string;
  kind: PresenceChangeKind;
  /** Who joined or left; absent for `expire`. */
  member?: PresenceMember;
}

/** The answer to a join from an owner the store no longer knows: its members expired, so it must heartbeat and re-join them all. */
export const UNKNOWN_OWNER = "unknown-owner";

/**
 * Where a worker's presence lives: Redis (every gateway process shares it) or the primary
 * (single-machine mode, over IPC). One store per worker process: its owner id is that process's
 * incarnation, so a restarted worker is a new owner and never counts its predecessor's members.
 * Join and leave are O(1) whatever the room size; count is one read.
 */
export interface PresenceStore {
  readonly kind: "redis" | "ipc";
  /** Keeps this owner alive; false when the store did not know it (or it had expired): its members are gone, re-join them. */
  heartbeat(): Promise<boolean>;
  /** Adds (or updates) a member; UNKNOWN_OWNER when the owner expired (heartbeat, re-join, retry). */
  join(namespace: string, room: string, id: string, infoJson: string): Promise<PresenceCount | typeof UNKNOWN_OWNER>;
  /** Removes this owner's member (a no-op, with the current count, when it is not there). */
  leave(namespace: string, room: string, id: string): Promise<PresenceCount>;
  count(namespace: string, room: string): Promise<number>;
  /** At most `limit` members, in no particular order. */
  members(namespace: string, room: string, limit: number): Promise<PresenceMember[]>;
  /** Removes a bounded batch of expired owners' members (Redis: any worker does it; IPC: the primary does). */
  reap(): Promise<void>;
  onChange(listener: (change: PresenceChange) => void): void;
  close(): Promise<void>;
}
