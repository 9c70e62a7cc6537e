import cluster, { type Worker } from "node:cluster";
import { PresenceTable } from "../../adapter/presence/presence-table.js";
import { OWNER_TTL, REAP_INTERVAL } from "../../adapter/presence/timing.js";
import type { PresenceChange } from "../../adapter/presence/types.js";
import type { Logger } from "../logger.js";
import { asPresenceRequest, PRESENCE_IPC_SOURCE, type PresenceRequest, type PresenceResult, type PresenceToWorker } from "../presence-ipc.js";
import type { WorkerPool } from "./worker-pool.js";

/**
 * Single-machine presence: the primary holds the table (adapter/presence/presence-table.ts),
 * answers the workers' requests over IPC and sends every change to every worker. Each worker
 * process is an owner; one that exits loses its members at once, one that stops heartbeating
 * (hung) within OWNER_TTL + REAP_INTERVAL. The primary only ever touches one room per request.
 */
export function startPresenceRelay(pool: WorkerPool, logger: Logger): void {
  const table = new PresenceTable();
  const broadcast = (changes: PresenceChange[]): void => {
    for (const change of changes) {
      const message: PresenceToWorker = { source: PRESENCE_IPC_SOURCE, type: "change", change };
      for (const worker of Object.values(cluster.workers ?? {})) if (worker?.isConnected()) worker.send(message, undefined, () => {});
    }
  };
  cluster.on("message", (worker: Worker, raw: unknown) => {
    const request = asPresenceRequest(raw);
    if (!request) return;
    const { result, changes } = answer(table, String(worker.id), request);
    if (worker.isConnected()) worker.send(result, undefined, () => {});
    broadcast(changes);
  });
  pool.on("exit", (record) => {
    const changes = table.dropOwner(String(record.worker.id));
    if (changes.length > 0) logger.info({ slot: record.slot, rooms: changes.length }, "presence: removed the members of an exited worker");
    broadcast(changes);
  });
  setInterval(() => broadcast(table.expire(Date.now())), REAP_INTERVAL).unref();
}

function answer(table: PresenceTable, owner: string, request: PresenceRequest): { result: PresenceResult; changes: PresenceChange[] } {
  const base = { source: PRESENCE_IPC_SOURCE, type: "result", id: request.id } as const;
  switch (request.type) {
    case "heartbeat":
      return { result: { ...base, known: table.heartbeat(owner, Date.now(), OWNER_TTL) }, changes: [] };
    case "join": {
      const joined = table.join(owner, request.namespace, request.room, { id: request.member, infoJson: request.info }, Date.now());
      if (!joined) return { result: { ...base, count: -1, seq: 0 }, changes: [] };
      return { result: { ...base, ...joined.result }, changes: joined.change ? [joined.change] : [] };
    }
    case "leave": {
      const left = table.leave(owner, request.namespace, request.room, request.member);
      return { result: { ...base, ...left.result }, changes: left.change ? [left.change] : [] };
    }
    case "count":
      return { result: { ...base, count: table.count(request.namespace, request.room) }, changes: [] };
    case "members":
      return { result: { ...base, members: table.members(request.namespace, request.room, request.limit) }, changes: [] };
  }
}
