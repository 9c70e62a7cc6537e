import assert from "node:assert/strict";
import type { Socket } from "node:net";
import { describe, it } from "node:test";
import { PendingHandoffs } from "../../gateway/primary/handoffs.js";

function fakeSocket(): Socket & { destroyed: boolean } {
  const socket = { destroyed: false, destroy: () => ((socket.destroyed = true), socket) };
  return socket as unknown as Socket & { destroyed: boolean };
}

describe("PendingHandoffs", () => {
  it("closes the primary's copy on the acknowledgement of the right worker only", () => {
    const handoffs = new PendingHandoffs(() => false);
    const socket = fakeSocket();
    let timedOut = false;
    const id = handoffs.add(socket, 3, () => (timedOut = true));
    handoffs.acknowledge(id, 4);
    assert.equal(socket.destroyed, false, "another worker cannot acknowledge it");
    handoffs.acknowledge(id, 3);
    assert.equal(socket.destroyed, true);
    handoffs.workerGone(3);
    assert.equal(timedOut, false);
  });

  it("gives up on a hand-off once its worker is silent, not before", async () => {
    let silent = false;
    const handoffs = new PendingHandoffs(() => silent);
    const answered = new Promise<void>((resolve) => handoffs.add(fakeSocket(), 1, resolve));
    const early = await Promise.race([answered.then(() => "gave up"), new Promise((resolve) => setTimeout(resolve, 700, "waiting"))]);
    assert.equal(early, "waiting", "a worker that answers keeps its queued hand-offs");
    silent = true;
    // The sweeper's timer is unref'd (it must not hold the primary open): this one keeps the test alive, bounded.
    let timer: NodeJS.Timeout | undefined;
    const bound = new Promise((_, reject) => (timer = setTimeout(() => reject(new Error("not given up within 3 s")), 3000)));
    await Promise.race([answered, bound]);
    clearTimeout(timer);
  });

  it("answers a gone worker's unacknowledged connections at once", () => {
    const handoffs = new PendingHandoffs(() => false);
    const answered: number[] = [];
    handoffs.add(fakeSocket(), 1, () => answered.push(1));
    handoffs.add(fakeSocket(), 2, () => answered.push(2));
    handoffs.workerGone(1);
    assert.deepEqual(answered, [1]);
    handoffs.workerGone(2);
    assert.deepEqual(answered, [1, 2]);
  });
});
