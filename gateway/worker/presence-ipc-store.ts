import { EventEmitter } from "node:events";
import { GatewayError } from "../../common/errors.js";
import { PRESENCE_TIMEOUT } from "../../adapter/presence/timing.js";
import { UNKNOWN_OWNER, type PresenceChange, type PresenceCount, type PresenceMember, type PresenceStore } from "../../adapter/presence/types.js";
import { asPresenceToWorker, PRESENCE_IPC_SOURCE, type PresenceRequest, type PresenceResult } from "../presence-ipc.js";

type RequestBody = PresenceRequest extends infer R ? (R extends unknown ? Omit<R, "source" | "id"> : never) : never;

/**
 * Single-machine presence, a worker's side: every call is a request to the primary's table
 * (gateway/primary/presence-relay.ts), answered in order on the IPC channel, and every change
 * arrives from the primary. The owner is this worker process; the primary reaps.
 */
export class IpcPresenceStore extends EventEmitter<{ change: [PresenceChange] }> implements PresenceStore {
  readonly kind = "ipc" as const;
  private nextId = 1;
  private readonly pending = new Map<number, (result: PresenceResult) => void>();
  private readonly onMessage = (raw: unknown): void => {
    const message = asPresenceToWorker(raw);
    if (message?.type === "change") this.emit("change", message.change);
    else if (message?.type === "result") {
      this.pending.get(message.id)?.(message);
      this.pending.delete(message.id);
    }
  };

  constructor() {
    super();
    process.on("message", this.onMessage);
  }

  private request(body: RequestBody): Promise<PresenceResult> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      if (!process.connected || !process.send) return reject(new GatewayError("ERR_PRESENCE_UNAVAILABLE", "presence: the primary is gone"));
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new GatewayError("ERR_PRESENCE_UNAVAILABLE", `presence: no answer from the primary to ${body.type} within ${PRESENCE_TIMEOUT} ms`));
      }, PRESENCE_TIMEOUT);
      this.pending.set(id, (result) => {
        clearTimeout(timer);
        if (result.error !== undefined) reject(new GatewayError("ERR_PRESENCE_UNAVAILABLE", `presence: ${result.error}`));
        else resolve(result);
      });
      process.send({ source: PRESENCE_IPC_SOURCE, id, ...body }, undefined, {}, () => {});
    });
  }

  async heartbeat(): Promise<boolean> {
    return (await this.request({ type: "heartbeat" })).known === true;
  }

  async join(namespace: string, room: string, member: string, info: string): Promise<PresenceCount | typeof UNKNOWN_OWNER> {
    const { count = 0, seq = 0 } = await this.request({ type: "join", namespace, room, member, info });
    return count < 0 ? UNKNOWN_OWNER : { count, seq };
  }

  async leave(namespace: string, room: string, member: string): Promise<PresenceCount> {
    const { count = 0, seq = 0 } = await this.request({ type: "leave", namespace, room, member });
    return { count, seq };
  }

  async count(namespace: string, room: string): Promise<number> {
    return (await this.request({ type: "count", namespace, room })).count ?? 0;
  }

  async members(namespace: string, room: string, limit: number): Promise<PresenceMember[]> {
    return (await this.request({ type: "members", namespace, room, limit })).members ?? [];
  }

  /** The primary reaps in single-machine mode. */
  async reap(): Promise<void> {}

  onChange(listener: (change: PresenceChange) => void): void {
    this.on("change", listener);
  }

  close(): Promise<void> {
    process.off("message", this.onMessage);
    return Promise.resolve();
  }
}
