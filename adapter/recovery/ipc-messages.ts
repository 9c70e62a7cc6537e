import type { ClusterMessage, ClusterResponse } from "socket.io-adapter";
import type { LogEntry, RecoveryBounds, SessionRecord } from "./ordered-log.js";

/**
 * Messages of the single-machine recovery log between a worker (ipc-log.ts) and the primary
 * (gateway/primary/recovery-relay.ts). Tagged with their own source, beside the gateway's and
 * the cluster adapter's messages on the same channel; receivers drop anything malformed.
 */
export const LOG_IPC_SOURCE = "sio-gateway-log";

export type WorkerToRelay = { source: typeof LOG_IPC_SOURCE } & (
  | { type: "subscribe"; bounds: RecoveryBounds }
  | { type: "append"; id: number; message: ClusterMessage }
  | { type: "respond"; to: string; response: ClusterResponse }
  | { type: "read-after"; id: number; offset: string; limit: number }
  | { type: "session-save"; id: number; record: SessionRecord; ttl: number; ifOwner: boolean }
  | { type: "session-take"; id: number; pid: string }
  | { type: "session-remove"; id: number; pid: string; owner: string }
);

export type RelayToWorker = { source: typeof LOG_IPC_SOURCE } & (
  | { type: "entry"; entry: LogEntry }
  | { type: "response"; to: string; response: ClusterResponse }
  | { type: "reply"; id: number; ok: true; value?: unknown }
  | { type: "reply"; id: number; ok: false; error: string }
);

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === "object" && value !== null && !Array.isArray(value);
const isId = (value: unknown): value is number => typeof value === "number" && Number.isSafeInteger(value);

function isRecord(value: unknown): value is SessionRecord {
  return (
    isObject(value) &&
    typeof value.sid === "string" &&
    typeof value.pid === "string" &&
    typeof value.owner === "string" &&
    Array.isArray(value.rooms) &&
    value.rooms.every((room) => typeof room === "string")
  );
}

function isClusterMessage(value: unknown): value is ClusterMessage {
  return isObject(value) && typeof value.uid === "string" && typeof value.nsp === "string" && typeof value.type === "number";
}

/** A worker's message to the relay, or undefined when it is someone else's or malformed. */
export function asWorkerToRelay(raw: unknown): WorkerToRelay | undefined {
  if (!isObject(raw) || raw.source !== LOG_IPC_SOURCE) return undefined;
  const source = LOG_IPC_SOURCE;
  switch (raw.type) {
    case "subscribe": {
      const bounds = raw.bounds;
      if (!isObject(bounds) || !isId(bounds.maxDisconnectionDuration) || !isId(bounds.maxEntries)) return undefined;
      return { source, type: "subscribe", bounds: { maxDisconnectionDuration: bounds.maxDisconnectionDuration, maxEntries: bounds.maxEntries } };
    }
    case "append":
      return isId(raw.id) && isClusterMessage(raw.message) ? { source, type: "append", id: raw.id, message: raw.message } : undefined;
    case "respond":
      return typeof raw.to === "string" && isObject(raw.response) && typeof raw.response.nsp === "string"
        ? { source, type: "respond", to: raw.to, response: raw.response as unknown as ClusterResponse }
        : undefined;
    case "read-after":
      return isId(raw.id) && typeof raw.offset === "string" && isId(raw.limit)
        ? { source, type: "read-after", id: raw.id, offset: raw.offset, limit: raw.limit }
        : undefined;
    case "session-save":
      return isId(raw.id) && isRecord(raw.record) && isId(raw.ttl) && typeof raw.ifOwner === "boolean"
        ? { source, type: "session-save", id: raw.id, record: raw.record, ttl: raw.ttl, ifOwner: raw.ifOwner }
        : undefined;
    case "session-take":
      return isId(raw.id) && typeof raw.pid === "string" ? { source, type: "session-take", id: raw.id, pid: raw.pid } : undefined;
    case "session-remove":
      return isId(raw.id) && typeof raw.pid === "string" && typeof raw.owner === "string"
        ? { source, type: "session-remove", id: raw.id, pid: raw.pid, owner: raw.owner }
        : undefined;
    default:
      return undefined;
  }
}

/** The relay's message to a worker, or undefined when it is someone else's or malformed. */
export function asRelayToWorker(raw: unknown): RelayToWorker | undefined {
  if (!isObject(raw) || raw.source !== LOG_IPC_SOURCE) return undefined;
  const source = LOG_IPC_SOURCE;
  switch (raw.type) {
    case "entry": {
      const entry = raw.entry;
      return isObject(entry) && typeof entry.offset === "string" && isClusterMessage(entry.message)
        ? { source, type: "entry", entry: { offset: entry.offset, message: entry.message } }
        : undefined;
    }
    case "response":
      return typeof raw.to === "string" && isObject(raw.response)
        ? { source, type: "response", to: raw.to, response: raw.response as unknown as ClusterResponse }
        : undefined;
    case "reply":
      if (!isId(raw.id)) return undefined;
      if (raw.ok === true) return { source, type: "reply", id: raw.id, ok: true, value: raw.value };
      return typeof raw.error === "string" ? { source, type: "reply", id: raw.id, ok: false, error: raw.error } : undefined;
    default:
      return undefined;
  }
}
