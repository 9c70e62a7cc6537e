/** Input rules of the demo app's events: a reason string when the input is bad, undefined when it is fine. */

export const MAX_ROOM_LENGTH = 64;
export const MAX_TEXT_LENGTH = 4096;
export const MAX_NAME_LENGTH = 32;
/** Chat messages one socket may send per second (a burst of as many), below the gateway's default --rate-limit of 50. */
export const CHAT_RATE = 20;
/** The refusal of a chat over CHAT_RATE. */
export const TOO_MANY_MESSAGES = "too many messages";

export function roomError(room: unknown): string | undefined {
  if (typeof room !== "string" || room.length === 0 || room.length > MAX_ROOM_LENGTH) {
    return `room must be a non-empty string of at most ${MAX_ROOM_LENGTH} characters`;
  }
  return undefined;
}

export function textError(text: unknown): string | undefined {
  if (typeof text !== "string" || text.length > MAX_TEXT_LENGTH) return `text must be a string of at most ${MAX_TEXT_LENGTH} characters`;
  return undefined;
}

/** A display name from the handshake (`auth.name`), or undefined when absent or unusable. */
export function displayName(name: unknown): string | undefined {
  if (typeof name !== "string") return undefined;
  const trimmed = name.trim();
  return trimmed.length > 0 && trimmed.length <= MAX_NAME_LENGTH ? trimmed : undefined;
}
