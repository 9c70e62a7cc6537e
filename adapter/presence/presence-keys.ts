import { parsePublicRecord } from "./public-record.js";
import type { PresenceMember } from "./types.js";

/**
 * The Redis keys of presence, shared by the gateway's store and the emitter's reader. Every key
 * carries one hash tag, so on a Redis Cluster they share a slot and the scripts (which touch a
 * room, an owner's set and the owner list at once) run on one shard.
 *
 * - `{sio-gateway:presence}:owners`: sorted set, owner (a worker incarnation) → deadline (ms, Redis' clock)
 * - `{sio-gateway:presence}:owner:<owner>`: set of the owner's memberships, `["ns","room","id"]`
 * - `{sio-gateway:presence}:room:<bytes of ns>:<ns><room>`: hash, member id → `<owner> <record JSON>`
 * - `{sio-gateway:presence}:seq`: counter ordering every change
 * - `{sio-gateway:presence}:changes`: the channel every change is published on
 */
export const PRESENCE_PREFIX = "{sio-gateway:presence}";

export interface PresenceKeys {
  owners: string;
  seq: string;
  channel: string;
  owner(owner: string): string;
  room(namespace: string, room: string): string;
}

export function presenceKeys(prefix = PRESENCE_PREFIX): PresenceKeys {
  return {
    owners: `${prefix}:owners`,
    seq: `${prefix}:seq`,
    channel: `${prefix}:changes`,
    owner: (owner) => `${prefix}:owner:${owner}`,
    // The namespace's byte length first, so no namespace/room pair can name another's key (Lua's # counts bytes too).
    room: (namespace, room) => `${prefix}:room:${Buffer.byteLength(namespace)}:${namespace}${room}`,
  };
}

/** A room hash's field and value as a member (the value is `<owner> <record JSON>`). */
export function memberFromHash(id: string, value: string): PresenceMember {
  const space = value.indexOf(" ");
  return { id, info: parsePublicRecord(space < 0 ? "{}" : value.slice(space + 1)) };
}

/** Reads a room hash with HSCAN, stopping at `limit` members: a room of 100,000 is never read whole. */
export async function scanMembers(
  hscan: (key: string, cursor: string, count: number) => Promise<[string, string[]]>,
  key: string,
  limit: number,
): Promise<PresenceMember[]> {
  const members: PresenceMember[] = [];
  // HSCAN may return a field twice while the hash is rehashed: each member once.
  const seen = new Set<string>();
  let cursor = "0";
  // HSCAN may return a few more than COUNT, and each round at least one: `limit` rounds at most.
  for (let round = 0; round < Math.max(1, limit); round++) {
    const [next, flat] = await hscan(key, cursor, Math.min(1000, Math.max(10, limit)));
    for (let i = 0; i + 1 < flat.length && members.length < limit; i += 2) {
      if (seen.has(flat[i])) continue;
      seen.add(flat[i]);
      members.push(memberFromHash(flat[i], flat[i + 1]));
    }
    cursor = next;
    if (cursor === "0" || members.length >= limit) break;
  }
  return members;
}

/** A member-list limit as given (anything but a finite number: `fallback`), made an integer from 0 to `max`. */
export function clampLimit(limit: unknown, fallback: number, max: number): number {
  const value = typeof limit === "number" && Number.isFinite(limit) ? Math.floor(limit) : fallback;
  return Math.min(max, Math.max(0, value));
}
