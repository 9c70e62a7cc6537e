import { valueOverLimits } from "../../common/bounded-value.js";
import { GatewayError } from "../../common/errors.js";

/** How large a member's public record may be, in characters of JSON. */
export const MAX_RECORD_CHARS = 512;
/** How deep a member's public record may nest. */
export const MAX_RECORD_DEPTH = 4;

/**
 * The member's public record as JSON, checked: a plain object (or nothing: `{}`) of at most
 * MAX_RECORD_CHARS characters and MAX_RECORD_DEPTH levels. Every join copies it to Redis or the
 * primary and every member list carries it, so it is bounded before it is serialized.
 */
export function publicRecordJson(info: unknown): string {
  if (info === undefined) return "{}";
  if (typeof info !== "object" || info === null || Array.isArray(info)) {
    throw new GatewayError("ERR_INVALID_PRESENCE", `presence record: expected a plain object, got ${Array.isArray(info) ? "an array" : typeof info}`);
  }
  const reason = valueOverLimits(info, { maxChars: MAX_RECORD_CHARS, maxDepth: MAX_RECORD_DEPTH });
  if (reason) throw new GatewayError("ERR_INVALID_PRESENCE", `presence record ${reason}`);
  const json = JSON.stringify(info);
  if (json.length > MAX_RECORD_CHARS) throw new GatewayError("ERR_INVALID_PRESENCE", `presence record larger than ${MAX_RECORD_CHARS} characters`);
  return json;
}

/** A stored record back as an object ({} when it cannot be read: stores hold what publicRecordJson made). */
export function parsePublicRecord(json: string): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(json);
    return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}
