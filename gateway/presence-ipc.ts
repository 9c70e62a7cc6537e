import type { PresenceChange, PresenceMember } from "../adapter/presence/types.js";

/**
 * Presence messages between the workers and the primary in single-machine mode (the primary
 * holds the table: gateway/primary/presence-relay.ts). A source tag of their own, so the
 * gateway's main IPC union (gateway/ipc.ts) and its receivers stay as they are; receivers drop
 * anything malformed. The owner is the sending worker, which the primary knows from the channel.
 */
export const PRESENCE_IPC_SOURCE = "sio-gateway:presence";

/** Worker → primary: one presence request, answered by a PresenceResult with the same `id`. */
export type PresenceRequest = { source: typeof PRESENCE_IPC_SOURCE; id: number } & (
  | { type: "heartbeat" }
  | { type: "join"; namespace: string; room: string; member: string; info: string }
  | { type: "leave"; namespace: string; room: string; member: string }
  | { type: "count"; namespace: string; room: string }
  | { type: "members"; namespace: string; room: string; limit: number }
);

/** Primary → worker: the answer to a request (exactly one of its fields set by request type, or `error`). */
export interface PresenceResult {
  source: typeof PRESENCE_IPC_SOURCE;
  type: "result";
  id: number;
  /** heartbeat: was the owner alive. */
  known?: boolean;
  /** join/leave/count; count -1 on a join: the owner is unknown. */
  count?: number;
  seq?: number;
  members?: PresenceMember[];
  error?: string;
}

/** Primary → every worker: one room changed. */
export interface PresenceChangeMessage {
  source: typeof PRESENCE_IPC_SOURCE;
  type: "change";
  change: PresenceChange;
}

export type PresenceToWorker = PresenceResult | PresenceChangeMessage;

type Fields = Record<string, unknown>;
const isOurs = (message: unknown): message is Fields => typeof message === "object" && message !== null && (message as Fields).source === PRESENCE_IPC_SOURCE;
const isId = (value: unknown): value is number => typeof value === "number" && Number.isSafeInteger(value);
const isString = (value: unknown): value is string => typeof value === "string";

/** The message as a PresenceRequest (a fresh object of checked fields), or undefined. */
export function asPresenceRequest(message: unknown): PresenceRequest | undefined {
  if (!isOurs(message) || !isId(message.id)) return undefined;
  const { id, namespace, room, member, info, limit } = message;
  const base = { source: PRESENCE_IPC_SOURCE, id } as const;
  if (message.type === "heartbeat") return { ...base, type: "heartbeat" };
  if (!isString(namespace) || !isString(room)) return undefined;
  switch (message.type) {
    case "join":
      return isString(member) && isString(info) ? { ...base, type: "join", namespace, room, member, info } : undefined;
    case "leave":
      return isString(member) ? { ...base, type: "leave", namespace, room, member } : undefined;
    case "count":
      return { ...base, type: "count", namespace, room };
    case "members":
      return isId(limit) && limit >= 0 ? { ...base, type: "members", namespace, room, limit } : undefined;
    default:
      return undefined;
  }
}

/**
 * The message as a PresenceToWorker, or undefined. It comes from our own primary, which built
 * it from checked requests, so only the shape that routes it is checked here.
 */
export function asPresenceToWorker(message: unknown): PresenceToWorker | undefined {
  if (!isOurs(message)) return undefined;
  if (message.type === "result" && isId(message.id)) return message as unknown as PresenceResult;
  if (message.type === "change" && typeof message.change === "object" && message.change !== null) return message as unknown as PresenceChangeMessage;
  return undefined;
}
