import assert from "node:assert/strict";
import type { Socket } from "node:net";
import { describe, it } from "node:test";
import { PendingHandoffs } from "../../gateway/primary/handoffs.js";

function fakeSocket(): Socket & { destroyed: boolean } {
  const socket = { destroyed: false, destroy: () => ((socket.destroyed = true), socket) };
  return socket as unknown as Socket & { destroyed: boolean };
}

describe("PendingHandoffs", () => {
  it("closes the primary's copy on its worker's NODE_HANDLE_ACK once written, or when a later hand-off to that worker is written", () => {
    const handoffs = new PendingHandoffs(() => false);
    const [a, b, c, other] = [fakeSocket(), fakeSocket(), fakeSocket(), fakeSocket()];
    const given: string[] = [];
    const idA = handoffs.add(a, 3, (why) => given.push(`a ${why}`));
    const idB = handoffs.add(b, 3, (why) => given.push(`b ${why}`));
    const idC = handoffs.add(c, 3, (why) => given.push(`c ${why}`));
    handoffs.add(other, 4, (why) => given.push(`other ${why}`));
    handoffs.written(idA, 3);
    handoffs.nodeAcknowledged(4);
    assert.equal(a.destroyed, false, "another worker's acknowledgement is not this one's");
    handoffs.nodeAcknowledged(3);
    assert.equal(a.destroyed, true, "written, then acknowledged");
    // b's acknowledgement is lost from view (e.g. heard before its write callback): c written means Node had it.
    handoffs.written(idB, 3);
    handoffs.written(idC, 3);
    assert.equal(b.destroyed, true);
    assert.equal(c.destroyed, false, "written, not yet acknowledged");
    assert.equal(handoffs.pendingCount, 2);
    handoffs.workerGone(3);
    handoffs.workerGone(4);
    assert.deepEqual(given, ["c silent", "other silent"]);
  });

  it("applies an acknowledgement heard before its write callback when the callback runs", () => {
    const handoffs = new PendingHandoffs(() => false);
    const socket = fakeSocket();
    const id = handoffs.add(socket, 1, () => {});
    handoffs.nodeAcknowledged(1);
    assert.equal(socket.destroyed, false, "not written yet: the ACK is for it, once it is");
    handoffs.written(id, 1);
    assert.equal(socket.destroyed, true);
    assert.equal(handoffs.pendingCount, 0);
  });

  it("hands a written connection back on NODE_HANDLE_NACK (the worker never got it), the socket still open", () => {
    const handoffs = new PendingHandoffs(() => false);
    const socket = fakeSocket();
    const reasons: string[] = [];
    const id = handoffs.add(socket, 1, (why) => reasons.push(why));
    handoffs.nodeRefused(1);
    assert.deepEqual(reasons, [], "nothing written yet: nothing refused");
    handoffs.written(id, 1);
    handoffs.nodeRefused(1);
    assert.deepEqual(reasons, ["not-received"]);
    assert.equal(socket.destroyed, false, "the caller answers on it");
    assert.equal(handoffs.pendingCount, 0);
  });

  it("gives up on a hand-off once its worker is silent, not before", async () => {
    let silent = false;
    const handoffs = new PendingHandoffs(() => silent);
    const answered = new Promise<void>((resolve) => handoffs.add(fakeSocket(), 1, () => resolve()));
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
