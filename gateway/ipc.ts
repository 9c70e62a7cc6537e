/**
 * Messages between the primary and its workers. One discriminated union keyed by `type`,
 * tagged with `source` so that the cluster adapter's and prom-client's own messages on the
 * same channel are told apart; receivers drop anything that is not well-formed.
 */
export const IPC_SOURCE = "sio-gateway";

/** Primary → worker: a TCP connection handed over, with the bytes the primary already read. */
export interface ConnectionMessage {
  source: typeof IPC_SOURCE;
  type: "connection";
  /** Every byte the primary read from the socket, unchanged. */
  bytes: Uint8Array;
  /** The client IP, when the primary counts connections per IP (--max-conns-per-ip): the worker reports the close. */
  ip?: string;
}

/** Primary → worker: stop accepting, close Socket.IO and the adapter, then exit 0. */
export interface DrainMessage {
  source: typeof IPC_SOURCE;
  type: "drain";
}

/** Primary → worker: the answer to a metrics request. */
export interface MetricsResponseMessage {
  source: typeof IPC_SOURCE;
  type: "metrics-response";
  id: number;
  /** Prometheus text, or undefined with `error` set. */
  text?: string;
  error?: string;
}

/** Worker → primary: the worker listens and its adapter is connected (sent once). */
export interface ReadyMessage {
  source: typeof IPC_SOURCE;
  type: "ready";
}

/** Worker → primary: a handed-over connection closed (for the per-IP connection limit). */
export interface ConnectionClosedMessage {
  source: typeof IPC_SOURCE;
  type: "connection-closed";
  ip: string;
}

/** Worker → primary: please aggregate the cluster's metrics (the worker got GET /metrics). */
export interface MetricsRequestMessage {
  source: typeof IPC_SOURCE;
  type: "metrics-request";
  id: number;
}

export type PrimaryToWorker = ConnectionMessage | DrainMessage | MetricsResponseMessage;
export type WorkerToPrimary = ReadyMessage | ConnectionClosedMessage | MetricsRequestMessage;

type Payload<M> = M extends unknown ? Omit<M, "source"> : never;

/** Adds the source tag. */
export function ipcMessage<M extends PrimaryToWorker | WorkerToPrimary>(payload: Payload<M>): M {
  return { source: IPC_SOURCE, ...payload } as M;
}

function isOurs(message: unknown): message is { source: string; type: string } & Record<string, unknown> {
  return typeof message === "object" && message !== null && (message as { source?: unknown }).source === IPC_SOURCE;
}

/** The message as a WorkerToPrimary, or undefined when it is someone else's or malformed. */
export function asWorkerMessage(message: unknown): WorkerToPrimary | undefined {
  if (!isOurs(message)) return undefined;
  switch (message.type) {
    case "ready":
      return message as unknown as ReadyMessage;
    case "connection-closed":
      return typeof message.ip === "string" ? (message as unknown as ConnectionClosedMessage) : undefined;
    case "metrics-request":
      return typeof message.id === "number" ? (message as unknown as MetricsRequestMessage) : undefined;
    default:
      return undefined;
  }
}

/** The message as a PrimaryToWorker, or undefined when it is someone else's or malformed. */
export function asPrimaryMessage(message: unknown): PrimaryToWorker | undefined {
  if (!isOurs(message)) return undefined;
  switch (message.type) {
    case "connection":
      return message.bytes instanceof Uint8Array && (message.ip === undefined || typeof message.ip === "string") ? (message as unknown as ConnectionMessage) : undefined;
    case "drain":
      return message as unknown as DrainMessage;
    case "metrics-response":
      return typeof message.id === "number" ? (message as unknown as MetricsResponseMessage) : undefined;
    default:
      return undefined;
  }
}
