import type { ClusterMessage, ClusterResponse } from "socket.io-adapter";
import { asRelayToWorker, LOG_IPC_SOURCE, type WorkerToRelay } from "./ipc-messages.js";
import type { LogEntry, LogOffset, OrderedLog, RecoveryBounds, SessionRecord, SessionStore } from "./ordered-log.js";

/** How long a worker waits for the primary's answer to a log request, in ms. */
const REQUEST_TIMEOUT = 5000;
/** Offsets of the primary's log: `<epoch>:<sequence>` (the epoch changes when the primary restarts). */
const OFFSET_PATTERN = /^[a-z0-9]{1,16}:\d{1,16}$/;

type Payload = WorkerToRelay extends infer M ? (M extends { id: number } ? Omit<M, "source" | "id"> : never) : never;

/**
 * Single-machine mode: the recovery log is kept by the primary (gateway/primary/recovery-relay.ts),
 * which numbers every entry and relays it to every worker over IPC. One channel per worker
 * delivers in order, so every worker sees the primary's order.
 */
export class IpcOrderedLog implements OrderedLog {
  readonly kind = "ipc" as const;
  readonly sessions: SessionStore;
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void; timer: NodeJS.Timeout }>();
  private readonly onMessage = (raw: unknown): void => this.receive(raw);
  private onEntry: ((entry: LogEntry) => void) | undefined;
  private onResponse: ((response: ClusterResponse) => void) | undefined;
  private readonly bounds: RecoveryBounds;

  constructor(bounds: RecoveryBounds) {
    this.bounds = bounds;
    process.on("message", this.onMessage);
    const request = <T>(payload: Payload): Promise<T> => this.request<T>(payload);
    this.sessions = {
      save: (record: SessionRecord, ttl: number) => request({ type: "session-save", record, ttl, ifOwner: false }),
      saveIfOwner: (record: SessionRecord, ttl: number) => request({ type: "session-save", record, ttl, ifOwner: true }),
      take: (pid: string) => request<SessionRecord | undefined>({ type: "session-take", pid }),
      remove: (pid: string, owner: string) => request({ type: "session-remove", pid, owner }),
    };
  }

  subscribe(onEntry: (entry: LogEntry) => void, onResponse: (response: ClusterResponse) => void): void {
    this.onEntry = onEntry;
    this.onResponse = onResponse;
    this.send({ source: LOG_IPC_SOURCE, type: "subscribe", bounds: this.bounds });
  }

  append(message: ClusterMessage): Promise<LogOffset> {
    return this.request<LogOffset>({ type: "append", message });
  }

  respond(requesterUid: string, response: ClusterResponse): Promise<void> {
    this.send({ source: LOG_IPC_SOURCE, type: "respond", to: requesterUid, response });
    return Promise.resolve();
  }

  readAfter(offset: LogOffset, limit: number): Promise<LogEntry[] | undefined> {
    return this.request<LogEntry[] | undefined>({ type: "read-after", offset, limit });
  }

  compareOffsets(a: LogOffset, b: LogOffset): number {
    return Number(a.slice(a.indexOf(":") + 1)) - Number(b.slice(b.indexOf(":") + 1));
  }

  isOffset(offset: string): boolean {
    return OFFSET_PATTERN.test(offset);
  }

  isConnected(): boolean {
    return process.connected;
  }

  whenConnected(): Promise<void> {
    return Promise.resolve();
  }

  close(): Promise<void> {
    process.off("message", this.onMessage);
    for (const { reject, timer } of this.pending.values()) {
      clearTimeout(timer);
      reject(new Error("recovery log closed"));
    }
    this.pending.clear();
    return Promise.resolve();
  }

  private receive(raw: unknown): void {
    const message = asRelayToWorker(raw);
    if (!message) return;
    if (message.type === "entry") this.onEntry?.(message.entry);
    else if (message.type === "response") this.onResponse?.(message.response);
    else {
      const waiting = this.pending.get(message.id);
      if (!waiting) return;
      this.pending.delete(message.id);
      clearTimeout(waiting.timer);
      if (message.ok) waiting.resolve(message.value);
      else waiting.reject(new Error(message.error));
    }
  }

  private request<T>(payload: Payload): Promise<T> {
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`recovery log: no answer from the primary within ${REQUEST_TIMEOUT} ms (${payload.type})`));
      }, REQUEST_TIMEOUT);
      this.pending.set(id, { resolve: resolve as (value: unknown) => void, reject, timer });
      const fail = (error: Error): void => {
        clearTimeout(timer);
        this.pending.delete(id);
        reject(error);
      };
      // `process.send` throws at once for what the channel cannot carry (a function in socket.data):
      // the request fails now instead of waiting out its timeout.
      try {
        if (!this.send({ source: LOG_IPC_SOURCE, id, ...payload })) fail(new Error("recovery log: the primary is gone"));
      } catch (error) {
        fail(error as Error);
      }
    });
  }

  /** False when the channel to the primary is closed. */
  private send(message: WorkerToRelay): boolean {
    if (!process.connected || !process.send) return false;
    process.send(message, undefined, {}, () => {});
    return true;
  }
}
