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
  /**
   * Every byte the primary read from the socket, unchanged; absent when it handed the socket
   * over on accept, before reading anything (a direct client: the worker's front door reads the
   * head, worker/front-door.ts). Absent rather than empty: a Uint8Array costs a host-object
   * round trip through the "advanced" serializer on every connection.
   */
  bytes?: Uint8Array;
  /** The client IP the primary routed by (becomes `socket.handshake.address`). */
  ip: string;
  /** The TCP peer as the primary read it (getpeername): the worker's copy of the socket reports it without asking the kernel again. */
  peer?: PeerName;
  /** True when the primary counts connections per IP (--max-conns-per-ip): the worker reports the close. */
  reportClose: boolean;
  /** The hand-off's number (the primary's bookkeeping, primary/handoffs.ts). */
  id: number;
  /** True for a connection accepted on `--admin-port`: the private endpoints are served on it. */
  admin: boolean;
}

/** A socket's peer, as net.Socket caches it (`remoteAddress`, `remoteFamily`, `remotePort`). */
export interface PeerName {
  address: string;
  family: string;
  port: number;
}

/** Primary → worker, first message after fork: the options in force and the worker's slot (secrets never travel in the environment). */
export interface ConfigureMessage {
  source: typeof IPC_SOURCE;
  type: "configure";
  /** The primary's resolved options; the worker validates them again on receipt. */
  options: Record<string, unknown>;
  slot: number;
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

/** Worker → primary, first message: the worker listens for messages now; send it its configuration. */
export interface ConfigureRequestMessage {
  source: typeof IPC_SOURCE;
  type: "configure-request";
}

/** Worker → primary: what a starting worker waits for now (e.g. its Redis), so a start that times out can say why. */
export interface StartWaitingMessage {
  source: typeof IPC_SOURCE;
  type: "start-waiting";
  /** One line, no secrets (a Redis URL without its password). */
  reason: string;
}

/** Worker → primary: the worker cannot start (the app module is unusable or its set-up threw, a bad option); it exits next. */
export interface StartFailedMessage {
  source: typeof IPC_SOURCE;
  type: "start-failed";
  /** True for a configuration error (a bad app module or option): nothing will start until it is fixed. */
  configuration: boolean;
  /** One line naming the cause. */
  message: string;
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

/**
 * Primary → every worker: where each slot's ready worker takes requests from its peers
 * (per-request routing, worker/request-router.ts), indexed by slot; null for a slot whose
 * worker is down, starting or not answering.
 */
export interface PeersMessage {
  source: typeof IPC_SOURCE;
  type: "peers";
  paths: (string | null)[];
  /** Slots whose worker is up but not answering (hung, SIGSTOP): their sessions live nowhere else, so requests for them get 503. */
  hung: number[];
}

/** Primary → worker: are you there? (hung-worker detection; the worker answers `pong` with the same id). */
export interface PingMessage {
  source: typeof IPC_SOURCE;
  type: "ping";
  id: number;
}

/** Worker → primary, before `ready`: the Unix socket path where it takes requests forwarded by its peers. */
export interface InternalAddressMessage {
  source: typeof IPC_SOURCE;
  type: "internal-address";
  path: string;
}

/**
 * Worker → primary: what its front door did with connections handed over on accept (their head
 * is read in the worker): refusals by reason (as the primary counts its own) and requests with
 * forwarding headers from an address not in --trust-proxy. Sent only when something happened,
 * batched per event-loop turn.
 */
export interface FrontDoorMessage {
  source: typeof IPC_SOURCE;
  type: "front-door";
  rejected: Record<string, number>;
  untrustedForwarded: number;
}

/** Worker → primary: the answer to a ping (its event loop runs). */
export interface PongMessage {
  source: typeof IPC_SOURCE;
  type: "pong";
  id: number;
}

export type PrimaryToWorker = ConfigureMessage | ConnectionMessage | DrainMessage | MetricsResponseMessage | PeersMessage | PingMessage;
export type WorkerToPrimary =
  | ConfigureRequestMessage
  | StartWaitingMessage
  | StartFailedMessage
  | ReadyMessage
  | ConnectionClosedMessage
  | MetricsRequestMessage
  | InternalAddressMessage
  | FrontDoorMessage
  | PongMessage;

type Payload<M> = M extends unknown ? Omit<M, "source"> : never;

/** Adds the source tag. */
export function ipcMessage<M extends PrimaryToWorker | WorkerToPrimary>(payload: Payload<M>): M {
  return { source: IPC_SOURCE, ...payload } as M;
}

/** An object tagged with our source, its fields still unchecked. */
type Tagged = { source: typeof IPC_SOURCE; type?: unknown } & Record<string, unknown>;

function isOurs(message: unknown): message is Tagged {
  return typeof message === "object" && message !== null && (message as { source?: unknown }).source === IPC_SOURCE;
}

const isId = (value: unknown): value is number => typeof value === "number" && Number.isSafeInteger(value);
const isOptionalString = (value: unknown): value is string | undefined => value === undefined || typeof value === "string";

/**
 * The message as a WorkerToPrimary, or undefined when it is someone else's or malformed. Each
 * guard builds a fresh object from the fields it checked, so nothing unchecked passes on.
 */
export function asWorkerMessage(message: unknown): WorkerToPrimary | undefined {
  if (!isOurs(message)) return undefined;
  switch (message.type) {
    case "configure-request":
      return { source: IPC_SOURCE, type: "configure-request" };
    case "start-waiting":
      return typeof message.reason === "string" ? { source: IPC_SOURCE, type: "start-waiting", reason: message.reason.slice(0, 500) } : undefined;
    case "start-failed":
      return typeof message.configuration === "boolean" && typeof message.message === "string"
        ? { source: IPC_SOURCE, type: "start-failed", configuration: message.configuration, message: message.message }
        : undefined;
    case "ready":
      return { source: IPC_SOURCE, type: "ready" };
    case "connection-closed":
      return typeof message.ip === "string" ? { source: IPC_SOURCE, type: "connection-closed", ip: message.ip } : undefined;
    case "metrics-request":
      return isId(message.id) ? { source: IPC_SOURCE, type: "metrics-request", id: message.id } : undefined;
    case "internal-address":
      return typeof message.path === "string" ? { source: IPC_SOURCE, type: "internal-address", path: message.path } : undefined;
    case "pong":
      return isId(message.id) ? { source: IPC_SOURCE, type: "pong", id: message.id } : undefined;
    case "front-door": {
      const { rejected, untrustedForwarded } = message;
      if (typeof rejected !== "object" || rejected === null || Array.isArray(rejected) || !isId(untrustedForwarded) || untrustedForwarded < 0) return undefined;
      const counts: Record<string, number> = {};
      for (const [reason, count] of Object.entries(rejected)) {
        // Reasons become a metric label: only the front door's own, short, names pass.
        if (!/^[a-z-]{1,32}$/.test(reason) || !isId(count) || count < 0) return undefined;
        counts[reason] = count;
      }
      return { source: IPC_SOURCE, type: "front-door", rejected: counts, untrustedForwarded };
    }
    default:
      return undefined;
  }
}

function asPeerName(value: unknown): PeerName | undefined {
  if (typeof value !== "object" || value === null) return undefined;
  const { address, family, port } = value as Record<string, unknown>;
  if (typeof address !== "string" || (family !== "IPv4" && family !== "IPv6") || !isId(port) || port < 0 || port > 65535) return undefined;
  return { address, family, port };
}

/**
 * The message as a PrimaryToWorker of one type, or undefined. For a listener that handles one
 * type: every listener on the channel sees every message (a connection hand-off too), and only
 * messages of its type are validated and copied.
 */
export function asPrimaryMessageOf<T extends PrimaryToWorker["type"]>(message: unknown, type: T): Extract<PrimaryToWorker, { type: T }> | undefined {
  if (!isOurs(message) || message.type !== type) return undefined;
  return asPrimaryMessage(message) as Extract<PrimaryToWorker, { type: T }> | undefined;
}

/** The message as a PrimaryToWorker, or undefined when it is someone else's or malformed. */
export function asPrimaryMessage(message: unknown): PrimaryToWorker | undefined {
  if (!isOurs(message)) return undefined;
  switch (message.type) {
    case "configure": {
      const { options, slot } = message;
      const valid = typeof options === "object" && options !== null && !Array.isArray(options) && isId(slot) && slot >= 0;
      return valid ? { source: IPC_SOURCE, type: "configure", options: options as Record<string, unknown>, slot } : undefined;
    }
    case "connection": {
      const { bytes, ip, peer, reportClose, id, admin } = message;
      const bytesValid = bytes === undefined || bytes instanceof Uint8Array;
      if (!bytesValid || typeof ip !== "string" || typeof reportClose !== "boolean" || !isId(id) || typeof admin !== "boolean") {
        return undefined;
      }
      const peerName = asPeerName(peer);
      if (peer !== undefined && !peerName) return undefined;
      return {
        source: IPC_SOURCE,
        type: "connection",
        ...(bytes === undefined ? {} : { bytes }),
        ip,
        ...(peerName === undefined ? {} : { peer: peerName }),
        reportClose,
        id,
        admin,
      };
    }
    case "drain":
      return { source: IPC_SOURCE, type: "drain" };
    case "metrics-response": {
      const { id, text, error } = message;
      if (!isId(id) || !isOptionalString(text) || !isOptionalString(error)) return undefined;
      return { source: IPC_SOURCE, type: "metrics-response", id, ...(text === undefined ? {} : { text }), ...(error === undefined ? {} : { error }) };
    }
    case "peers": {
      const { paths, hung } = message;
      if (!Array.isArray(paths) || !paths.every((path) => path === null || typeof path === "string")) return undefined;
      if (!Array.isArray(hung) || !hung.every((slot) => isId(slot) && slot >= 0)) return undefined;
      return { source: IPC_SOURCE, type: "peers", paths: [...(paths as (string | null)[])], hung: [...(hung as number[])] };
    }
    case "ping":
      return isId(message.id) ? { source: IPC_SOURCE, type: "ping", id: message.id } : undefined;
    default:
      return undefined;
  }
}
