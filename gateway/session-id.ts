import { randomBytes } from "node:crypto";

/**
 * Engine.IO session ids that name their worker slot: `<slot>_<random>`.
 *
 * The primary routes a request that carries `sid=` by reading the slot back out of the id,
 * so no shared session map is needed and there is no race between the handshake and the
 * first request that names the new session (it may come from any address).
 */
const SID_PATTERN = /^(\d{1,4})_[A-Za-z0-9_-]{16,}$/;

/** A new session id for a worker slot: the slot, then 15 random bytes in base64url (120 bits). */
export function createSessionId(slot: number): string {
  return `${slot}_${randomBytes(15).toString("base64url")}`;
}

/** The worker slot a session id names, or undefined when it is not one of ours. */
export function slotOfSessionId(sid: string): number | undefined {
  const match = SID_PATTERN.exec(sid);
  return match ? Number(match[1]) : undefined;
}
