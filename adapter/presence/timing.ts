/**
 * Presence timing, shared by the workers, the primary's relay and the docs. A worker that dies
 * without a word (kill -9, hung) keeps its members until its deadline passes and a reap runs:
 * at most OWNER_TTL + REAP_INTERVAL (+ the reap itself) after its last heartbeat, so within
 * PRESENCE_EXPIRY_BOUND of its death. A worker that exits is dropped at once in single-machine
 * mode (the primary sees the exit).
 */

/** How often a worker tells the store it is alive, in ms. */
export const HEARTBEAT_INTERVAL = 2000;
/** How long an owner stays alive after its last heartbeat, in ms: three missed heartbeats and a margin for a busy event loop. */
export const OWNER_TTL = 7000;
/** How often expired owners' members are removed, in ms. */
export const REAP_INTERVAL = 1000;
/** The stated bound: a dead worker's members are gone from every count and list within this, in ms. */
export const PRESENCE_EXPIRY_BOUND = 10_000;
/** How long one presence call may wait for Redis or the primary, in ms. */
export const PRESENCE_TIMEOUT = 5000;
