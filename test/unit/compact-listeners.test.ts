import assert from "node:assert/strict";
import { EventEmitter } from "node:events";
import { describe, it } from "node:test";
import { compactEmitter } from "../../gateway/worker/compact-listeners.js";

/** An emitter whose `_events` went through a removal (what V8 turns into a hash table). */
function usedEmitter(): { emitter: EventEmitter; calls: string[] } {
  const emitter = new EventEmitter();
  const calls: string[] = [];
  emitter.on("close", () => calls.push("close 1"));
  emitter.on("close", () => calls.push("close 2"));
  emitter.on("close", () => calls.push("close 3"));
  emitter.once("open", () => calls.push("open"));
  emitter.on(Symbol.for("internal"), () => calls.push("symbol"));
  const removed = (): void => void calls.push("removed");
  emitter.on("data", removed);
  emitter.off("data", removed);
  return { emitter, calls };
}

describe("compactEmitter", () => {
  it("keeps every listener, in order, once-listeners and symbol events included", () => {
    const { emitter, calls } = usedEmitter();
    const before = emitter.eventNames();
    compactEmitter(emitter);
    assert.deepEqual(emitter.eventNames(), before);
    assert.equal(emitter.listenerCount("close"), 3);
    emitter.emit("close");
    emitter.emit("open");
    emitter.emit("open");
    emitter.emit(Symbol.for("internal"));
    assert.deepEqual(calls, ["close 1", "close 2", "close 3", "open", "symbol"]);
  });

  it("leaves an emitter that works as before: listeners added and removed afterwards", () => {
    const { emitter, calls } = usedEmitter();
    compactEmitter(emitter);
    const late = (): void => void calls.push("late");
    emitter.on("close", late);
    emitter.on("data", late);
    emitter.emit("close");
    emitter.off("close", late);
    emitter.removeAllListeners("data");
    emitter.emit("close");
    emitter.emit("data");
    assert.deepEqual(calls, ["close 1", "close 2", "close 3", "late", "close 1", "close 2", "close 3"]);
    assert.equal(emitter.listenerCount("data"), 0);
  });

  it("gives `_events` no prototype, so an event named like an Object method has no listener", () => {
    const { emitter } = usedEmitter();
    compactEmitter(emitter);
    const events = (emitter as unknown as { _events: object })._events;
    assert.equal(Object.getPrototypeOf(events), null);
    assert.equal(emitter.listenerCount("toString"), 0);
    assert.equal(emitter.emit("hasOwnProperty"), false);
  });

  it("copies listener arrays, so the copy is not the array the emitter had", () => {
    const { emitter } = usedEmitter();
    const before = (emitter as unknown as { _events: { close: unknown[] } })._events.close;
    compactEmitter(emitter);
    const after = (emitter as unknown as { _events: { close: unknown[] } })._events.close;
    assert.notEqual(after, before);
    assert.deepEqual(after, before);
  });

  it("keeps emitting right when a listener removes itself during an emit (Node 24 counts emits on the listener array)", () => {
    const emitter = new EventEmitter();
    const calls: string[] = [];
    emitter.on("tick", () => calls.push("first"));
    emitter.once("tick", () => calls.push("once"));
    emitter.on("tick", () => calls.push("last"));
    emitter.on("other", () => {});
    emitter.removeAllListeners("other"); // a removal: what compaction is for
    compactEmitter(emitter);
    emitter.emit("tick");
    emitter.emit("tick");
    assert.deepEqual(calls, ["first", "once", "last", "first", "last"]);
  });

  it("ignores what is not an emitter with its own `_events`", () => {
    compactEmitter(undefined);
    compactEmitter(null);
    compactEmitter({ _events: [] });
    const plain = { _events: { close: [() => {}] } }; // has Object.prototype: not Node's `_events`
    compactEmitter(plain);
    assert.equal(Object.getPrototypeOf(plain._events), Object.prototype);
  });
});

describe("compactEmitter, a listener array's own extra properties", () => {
  it("keeps Node's `warned` flag (past maxListeners) and symbol-keyed properties on the copied arrays", () => {
    const emitter = new EventEmitter();
    emitter.setMaxListeners(1);
    emitter.on("tick", () => {});
    emitter.on("tick", () => {}); // past the limit: Node sets `warned` on the array
    const mark = Symbol("mark");
    const events = (emitter as unknown as { _events: Record<string, unknown[] & Record<symbol | string, unknown>> })._events;
    events.tick[mark] = 7;
    emitter.on("gone", () => {});
    emitter.removeAllListeners("gone");
    compactEmitter(emitter);
    const after = (emitter as unknown as { _events: Record<string, unknown[] & Record<symbol | string, unknown>> })._events.tick;
    assert.notEqual(after, events.tick);
    assert.equal(after.warned, true);
    assert.equal(after[mark], 7);
    assert.equal(after.length, 2);
  });
});
