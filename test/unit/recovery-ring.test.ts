import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { asRelayToWorker, asWorkerToRelay, LOG_IPC_SOURCE } from "../../adapter/recovery/ipc-messages.js";
import { RecentBroadcasts, type DeliveredBroadcast } from "../../adapter/recovery/ring.js";

const compare = (a: string, b: string): number => Number(a) - Number(b);
const broadcast = (offset: number): DeliveredBroadcast => ({
  offset: String(offset),
  nsp: "/",
  data: ["chat", offset, String(offset)],
  opts: { rooms: new Set(), except: new Set() },
});

describe("RecentBroadcasts (the window that closes a restore's gap)", () => {
  it("returns the entries strictly after one offset and up to another, oldest first", () => {
    const ring = new RecentBroadcasts(10);
    for (let offset = 1; offset <= 6; offset++) ring.add(broadcast(offset));
    assert.deepEqual(
      ring.between("2", "5", compare)!.map((entry) => entry.offset),
      ["3", "4", "5"],
    );
    assert.deepEqual(ring.between("6", "6", compare), []);
  });

  it("keeps at most its capacity, and says so when it no longer reaches back far enough", () => {
    const ring = new RecentBroadcasts(3);
    for (let offset = 1; offset <= 6; offset++) ring.add(broadcast(offset));
    assert.deepEqual(
      ring.between("3", "6", compare)!.map((entry) => entry.offset),
      ["4", "5", "6"],
    );
    assert.equal(ring.between("1", "6", compare), undefined, "entry 2 and 3 were dropped: the window cannot answer for them");
  });
});

describe("recovery IPC guards", () => {
  const source = LOG_IPC_SOURCE;
  const message = { uid: "u", nsp: "/", type: 3, data: {} };

  it("accept well-formed messages as fresh objects without unchecked fields", () => {
    const append = asWorkerToRelay({ source, type: "append", id: 1, message, extra: "dropped" });
    assert.deepEqual(append, { source, type: "append", id: 1, message });
    const take = asWorkerToRelay({ source, type: "session-take", id: 2, pid: "p" });
    assert.deepEqual(take, { source, type: "session-take", id: 2, pid: "p" });
    const record = { sid: "s", pid: "p", rooms: ["s", "r"], data: { a: 1 }, owner: "o" };
    assert.deepEqual(asWorkerToRelay({ source, type: "session-save", id: 3, record, ttl: 1000, ifOwner: true }), {
      source,
      type: "session-save",
      id: 3,
      record,
      ttl: 1000,
      ifOwner: true,
    });
    assert.deepEqual(asRelayToWorker({ source, type: "entry", entry: { offset: "e:1", message }, x: 1 }), {
      source,
      type: "entry",
      entry: { offset: "e:1", message },
    });
    assert.deepEqual(asRelayToWorker({ source, type: "reply", id: 4, ok: false, error: "no" }), { source, type: "reply", id: 4, ok: false, error: "no" });
  });

  it("drop anything else", () => {
    for (const raw of [
      null,
      "append",
      { source: "other", type: "append", id: 1, message },
      { source, type: "append", id: "1", message },
      { source, type: "append", id: 1, message: { uid: 1, nsp: "/", type: 3 } },
      { source, type: "read-after", id: 1, offset: 5, limit: 10 },
      { source, type: "session-save", id: 1, record: { sid: "s", pid: "p", rooms: [1], owner: "o" }, ttl: 1, ifOwner: false },
      { source, type: "subscribe", bounds: { maxDisconnectionDuration: 1.5, maxEntries: 10 } },
      { source, type: "unknown" },
    ]) {
      assert.equal(asWorkerToRelay(raw), undefined, JSON.stringify(raw));
    }
    assert.equal(asRelayToWorker({ source, type: "entry", entry: { offset: 1, message } }), undefined);
    assert.equal(asRelayToWorker({ source, type: "reply", id: 1, ok: false }), undefined);
  });
});
