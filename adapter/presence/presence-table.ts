import { parsePublicRecord } from "./public-record.js";
import type { PresenceChange, PresenceCount, PresenceMember } from "./types.js";

interface Entry {
  owner: string;
  infoJson: string;
}

interface Owner {
  deadline: number;
  /** Its memberships: room key → member ids. */
  rooms: Map<string, Set<string>>;
}

/** `["/","lobby"]`: a key no two namespace/room pairs share. */
const roomKey = (namespace: string, room: string): string => JSON.stringify([namespace, room]);

/**
 * Presence in memory, in the primary (single-machine mode): the same rules as the Redis scripts
 * (adapter/presence/redis-scripts.ts). Owners are worker incarnations with a deadline kept by
 * heartbeats; join and leave are O(1); an owner that exits or misses its deadline takes its
 * members with it. Every change gets the next `seq` and is returned for the relay to send.
 */
export class PresenceTable {
  private readonly rooms = new Map<string, Map<string, Entry>>();
  private readonly owners = new Map<string, Owner>();
  private seq = 0;

  /** Keeps `owner` alive until now + ttl; false when it was unknown or past its deadline (it re-joins its members). */
  heartbeat(owner: string, now: number, ttl: number): boolean {
    const known = this.owners.get(owner);
    if (known && known.deadline >= now) {
      known.deadline = now + ttl;
      return true;
    }
    // Past its deadline but not yet expired: its members go now, and the owner starts afresh.
    if (known) this.dropOwner(owner);
    this.owners.set(owner, { deadline: now + ttl, rooms: new Map() });
    return false;
  }

  /** undefined when the owner is unknown or expired; else the count and the change (none when nothing changed). */
  join(
    owner: string,
    namespace: string,
    room: string,
    member: { id: string; infoJson: string },
    now: number,
  ): { result: PresenceCount; change?: PresenceChange } | undefined {
    const known = this.owners.get(owner);
    if (!known || known.deadline < now) return undefined;
    const key = roomKey(namespace, room);
    const members = this.rooms.get(key) ?? new Map<string, Entry>();
    this.rooms.set(key, members);
    const previous = members.get(member.id);
    if (previous && previous.owner === owner && previous.infoJson === member.infoJson) return { result: { count: members.size, seq: this.seq } };
    if (previous && previous.owner !== owner) this.owners.get(previous.owner)?.rooms.get(key)?.delete(member.id);
    members.set(member.id, { owner, infoJson: member.infoJson });
    const ids = known.rooms.get(key) ?? new Set<string>();
    known.rooms.set(key, ids.add(member.id));
    const change = this.change(namespace, room, members.size, "join", { id: member.id, info: parsePublicRecord(member.infoJson) });
    return { result: { count: change.count, seq: change.seq }, change };
  }

  /** Removes the owner's member; the change is undefined when it was not there. */
  leave(owner: string, namespace: string, room: string, id: string): { result: PresenceCount; change?: PresenceChange } {
    const key = roomKey(namespace, room);
    const members = this.rooms.get(key);
    const entry = members?.get(id);
    if (!members || !entry || entry.owner !== owner) return { result: { count: members?.size ?? 0, seq: this.seq } };
    this.removeMember(key, members, id, owner);
    const change = this.change(namespace, room, members.size, "leave", { id, info: {} });
    return { result: { count: change.count, seq: change.seq }, change };
  }

  count(namespace: string, room: string): number {
    return this.rooms.get(roomKey(namespace, room))?.size ?? 0;
  }

  members(namespace: string, room: string, limit: number): PresenceMember[] {
    const members: PresenceMember[] = [];
    for (const [id, entry] of this.rooms.get(roomKey(namespace, room)) ?? []) {
      if (members.length >= limit) break;
      members.push({ id, info: parsePublicRecord(entry.infoJson) });
    }
    return members;
  }

  /** Removes the owner and its members (its worker exited); one change per room touched. */
  dropOwner(owner: string): PresenceChange[] {
    const known = this.owners.get(owner);
    this.owners.delete(owner);
    if (!known) return [];
    const changes: PresenceChange[] = [];
    for (const [key, ids] of known.rooms) {
      const members = this.rooms.get(key);
      if (!members) continue;
      for (const id of ids) if (members.get(id)?.owner === owner) members.delete(id);
      if (members.size === 0) this.rooms.delete(key);
      const [namespace, room] = JSON.parse(key) as [string, string];
      changes.push(this.change(namespace, room, members.size, "expire"));
    }
    return changes;
  }

  /** Drops every owner past its deadline (a hung worker). */
  expire(now: number): PresenceChange[] {
    const dead = [...this.owners].filter(([, owner]) => owner.deadline < now).map(([id]) => id);
    return dead.flatMap((owner) => this.dropOwner(owner));
  }

  private removeMember(key: string, members: Map<string, Entry>, id: string, owner: string): void {
    members.delete(id);
    if (members.size === 0) this.rooms.delete(key);
    const ids = this.owners.get(owner)?.rooms.get(key);
    ids?.delete(id);
    if (ids?.size === 0) this.owners.get(owner)?.rooms.delete(key);
  }

  private change(namespace: string, room: string, count: number, kind: PresenceChange["kind"], member?: PresenceMember): PresenceChange {
    return { namespace, room, count, seq: ++this.seq, kind, ...(member ? { member } : {}) };
  }
}
