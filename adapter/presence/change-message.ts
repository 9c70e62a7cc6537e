import { parsePublicRecord } from "./public-record.js";
import type { PresenceChange, PresenceChangeKind } from "./types.js";

const KINDS: readonly PresenceChangeKind[] = ["join", "leave", "expire"];

const isCount = (value: unknown): value is number => typeof value === "number" && Number.isSafeInteger(value) && value >= 0;

/**
 * A change as the Redis scripts publish it, `{n, r, c, s, k, m?, i?}` (short keys: one goes to
 * every gateway process per change), checked field by field; undefined when it is not one.
 */
export function parseChangeMessage(text: string): PresenceChange | undefined {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof raw !== "object" || raw === null) return undefined;
  const { n, r, c, s, k, m, i } = raw as Record<string, unknown>;
  if (typeof n !== "string" || typeof r !== "string" || !isCount(c) || !isCount(s) || !KINDS.includes(k as PresenceChangeKind)) return undefined;
  const change: PresenceChange = { namespace: n, room: r, count: c, seq: s, kind: k as PresenceChangeKind };
  if (typeof m === "string") change.member = { id: m, info: typeof i === "string" ? parsePublicRecord(i) : {} };
  return change;
}
