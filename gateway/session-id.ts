import { randomFillSync } from "node:crypto";

/**
 * Engine.IO session ids that name their worker slot: `<slot>_<random>`.
 *
 * The primary routes a request that carries `sid=` by reading the slot back out of the id,
 * so no shared session map is needed and there is no race between the handshake and the
 * first request that names the new session (it may come from any address).
 */
const SID_PATTERN = /^(\d{1,4})_[A-Za-z0-9_-]{16,}$/;

/** Random bytes per session id (120 bits). */
const ID_BYTES = 15;
/**
 * Random bytes for the next 256 ids, filled from the CSPRNG in one call when used up: a
 * `randomBytes(15)` per id was a system call and a Buffer per connection (~5 µs each on the
 * bench machine, 1-2 % of a worker's CPU in a connect storm: bench/RESULTS.handoff.md).
 * Engine.IO's own ids (base64id) pool their random bytes the same way. Each byte is used once.
 */
const pool = Buffer.alloc(ID_BYTES * 256);
let used = pool.length;

/** A new session id for a worker slot: the slot, then 15 random bytes in base64url (120 bits). */
export function createSessionId(slot: number): string {
  if (used === pool.length) {
    randomFillSync(pool);
    used = 0;
  }
  const random = pool.toString("base64url", used, used + ID_BYTES);
  used += ID_BYTES;
  return `${slot}_${random}`;
}

/** The worker slot a session id names, or undefined when it is not one of ours. */
export function slotOfSessionId(sid: string): number | undefined {
  const match = SID_PATTERN.exec(sid);
  return match ? Number(match[1]) : undefined;
}
