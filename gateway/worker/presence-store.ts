import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import type { Logger } from "pino";
import { RedisPresenceStore } from "../../adapter/presence/redis-presence.js";
import { OWNER_TTL, PRESENCE_TIMEOUT } from "../../adapter/presence/timing.js";
import { IpcPresenceStore } from "./presence-ipc-store.js";
import { WorkerPresence } from "./presence.js";

/**
 * This worker's presence, started: in Redis with `--redis`, else in the primary over IPC. The
 * owner id names this process's incarnation (host, pid and random bytes), so a worker restarted
 * in the same slot is a new owner and never inherits (or double-counts) its predecessor's members.
 */
export async function startWorkerPresence(redisUrl: string | undefined, logger: Logger): Promise<WorkerPresence> {
  const owner = `${hostname()}:${process.pid}:${randomBytes(4).toString("hex")}`;
  const store = redisUrl ? new RedisPresenceStore(redisUrl, { owner, ownerTtl: OWNER_TTL, timeout: PRESENCE_TIMEOUT }, logger) : new IpcPresenceStore();
  const presence = new WorkerPresence(store, logger);
  await presence.start();
  return presence;
}
