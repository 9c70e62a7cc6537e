/**
 * What an emitter call asks of the gateway processes, before it is put on the wire. The emitter
 * builds one of these; adapter/plain-wire.ts or adapter/sharded-wire.ts turns it into a channel
 * and a payload, depending on how the gateway's adapter listens (adapter/pubsub-mode.ts).
 */
export interface EmitterTarget {
  namespace: string;
  /** Sockets in any of these rooms (all sockets when empty). */
  rooms: string[];
  /** Minus the sockets in any of these rooms. */
  except: string[];
}

export type EmitterRequest =
  | { type: "broadcast"; target: EmitterTarget; event: string; args: unknown[] }
  | { type: "join"; target: EmitterTarget; rooms: string[] }
  | { type: "leave"; target: EmitterTarget; rooms: string[] }
  | { type: "disconnect"; target: EmitterTarget; close: boolean }
  | { type: "server-side-emit"; namespace: string; event: string; args: unknown[] };

/** A request on the wire: PUBLISH (plain) or SPUBLISH (sharded) `payload` to `channel`. */
export interface EncodedRequest {
  channel: string;
  payload: string | Buffer;
}
