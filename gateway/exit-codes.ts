/**
 * Exit codes a worker uses to tell the primary why it stopped. Shared by both sides, so the
 * primary never imports the worker's module graph (socket.io, express, ioredis) for a constant.
 */

/** A worker that cannot start because of its configuration (EX_CONFIG, sysexits.h): the primary gives up at start-up. */
export const WORKER_EXIT_CONFIG = 78;
