import assert from "node:assert/strict";
import type { Socket } from "socket.io-client";
import { request, type TestClient } from "./clients.js";
import type { Inbox } from "./inbox.js";
import { waitUntil } from "./wait.js";

/**
 * Chats into `room` from `sender` until one of these chats reaches `receiver`: for a path that
 * comes back on its own (a resubscription, a fail-over) with no event telling the test when.
 * Each try is a new numbered chat; bounded by `timeout`.
 */
export async function chatUntilItCrosses(sender: Socket, receiver: Inbox, room: string, description: string, timeout: number, interval: number): Promise<void> {
  let sent = 0;
  await waitUntil(
    async () => {
      await request(sender, "chat", { room, text: `crossing ${sent++}` });
      return receiver.of("chat").some(([message]) => /^crossing /.test((message as { text: string }).text));
    },
    description,
    timeout,
    interval,
  );
}

/** What one receiver saw: the chat numbers in arrival order, and whether each reconnection recovered. */
export interface ReceiverLog {
  client: TestClient;
  numbers: number[];
  reconnections: boolean[];
}

/**
 * A sender chatting into a room every `interval` ms while receivers (on every worker) record
 * what arrives, for the recovery tests: every message acknowledged `{ ok: true }` must reach
 * every receiver exactly once, in order, whatever happened to the workers in between.
 * Bounded: at most `maxMessages` are sent.
 */
export class ChatRun {
  readonly acked: number[] = [];
  readonly receivers: ReceiverLog[];
  private sent = 0;
  private timer: NodeJS.Timeout | undefined;
  private readonly inFlight = new Set<Promise<void>>();

  constructor(
    private readonly sender: TestClient,
    receivers: TestClient[],
    private readonly room: string,
    private readonly maxMessages = 1000,
  ) {
    this.receivers = receivers.map((client) => {
      const log: ReceiverLog = { client, numbers: [], reconnections: [] };
      client.socket.on("chat", (message: { room: string; text: string }) => {
        if (message.room === room) log.numbers.push(Number(message.text));
      });
      // socket.io-client emits "connect" again after each reconnection; `recovered` says whether the session came back.
      client.socket.on("connect", () => log.reconnections.push(client.socket.recovered));
      return log;
    });
  }

  start(interval = 20): void {
    this.timer = setInterval(() => {
      if (this.sent >= this.maxMessages) return this.pause();
      const number = ++this.sent;
      const sending = (this.sender.socket.timeout(5000).emitWithAck("chat", { room: this.room, text: String(number) }) as Promise<{ ok: boolean }>).then(
        (answer) => {
          if (answer.ok) this.acked.push(number);
        },
        () => {}, // no answer (the sender's worker died with it): not acknowledged, so not promised
      );
      this.inFlight.add(sending);
      void sending.finally(() => this.inFlight.delete(sending));
    }, interval);
  }

  /** How many messages were acknowledged so far. */
  get ackedCount(): number {
    return this.acked.length;
  }

  pause(): void {
    clearInterval(this.timer);
  }

  /** Stops sending, waits for the answers still due, then for every receiver to hold every acknowledged message. */
  async finish(timeout = 20_000): Promise<void> {
    this.pause();
    await Promise.all(this.inFlight);
    const acked = new Set(this.acked);
    await waitUntil(
      () => this.receivers.every((log) => [...acked].every((number) => log.numbers.includes(number))),
      `every receiver got all ${acked.size} acknowledged messages (${this.receivers.map((log) => log.numbers.length).join(", ")} received)`,
      timeout,
    );
  }

  /** Every receiver got every acknowledged message exactly once, in sending order (unacknowledged ones may appear, once, in order). */
  assertExactlyOnceInOrder(): void {
    for (const [index, log] of this.receivers.entries()) {
      for (let i = 1; i < log.numbers.length; i++) {
        assert.ok(log.numbers[i] > log.numbers[i - 1], `receiver ${index}: ${log.numbers[i]} after ${log.numbers[i - 1]} (duplicate or out of order)`);
      }
      const missing = this.acked.filter((number) => !log.numbers.includes(number));
      assert.deepEqual(missing, [], `receiver ${index} is missing acknowledged messages`);
    }
  }
}
