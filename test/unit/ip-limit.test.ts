import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ConnectionCounter } from "../../gateway/primary/ip-limit.js";

describe("ConnectionCounter", () => {
  it("is never full with limit 0", () => {
    const counter = new ConnectionCounter(0);
    for (let i = 0; i < 1000; i++) counter.add(1, "10.0.0.1");
    assert.equal(counter.count("10.0.0.1"), 1000);
    assert.equal(counter.isFull("10.0.0.1"), false);
  });

  it("is full once an ip reaches the limit, counting across workers", () => {
    const counter = new ConnectionCounter(3);
    counter.add(1, "10.0.0.1");
    counter.add(2, "10.0.0.1");
    assert.equal(counter.count("10.0.0.1"), 2);
    assert.equal(counter.isFull("10.0.0.1"), false);
    counter.add(3, "10.0.0.1");
    assert.equal(counter.count("10.0.0.1"), 3);
    assert.equal(counter.isFull("10.0.0.1"), true);
    assert.equal(counter.isFull("10.0.0.2"), false);
    assert.equal(counter.count("10.0.0.2"), 0);
  });

  it("release frees one connection of that worker and ip", () => {
    const counter = new ConnectionCounter(2);
    counter.add(1, "10.0.0.1");
    counter.add(1, "10.0.0.1");
    counter.add(2, "10.0.0.2");
    assert.equal(counter.isFull("10.0.0.1"), true);
    counter.release(1, "10.0.0.1");
    assert.equal(counter.count("10.0.0.1"), 1);
    assert.equal(counter.isFull("10.0.0.1"), false);
    counter.release(1, "10.0.0.1");
    assert.equal(counter.count("10.0.0.1"), 0);
    assert.equal(counter.count("10.0.0.2"), 1);
  });

  it("releaseWorker forgets every connection of that worker only", () => {
    const counter = new ConnectionCounter(10);
    counter.add(1, "10.0.0.1");
    counter.add(1, "10.0.0.1");
    counter.add(1, "10.0.0.2");
    counter.add(2, "10.0.0.1");
    counter.releaseWorker(1);
    assert.equal(counter.count("10.0.0.1"), 1);
    assert.equal(counter.count("10.0.0.2"), 0);
  });

  it("ignores releases of an unknown ip, an unknown worker, or below zero", () => {
    const counter = new ConnectionCounter(2);
    counter.add(1, "10.0.0.1");
    counter.release(1, "10.9.9.9");
    counter.release(7, "10.0.0.1");
    counter.releaseWorker(7);
    assert.equal(counter.count("10.0.0.1"), 1);
    assert.equal(counter.count("10.9.9.9"), 0);
    counter.release(1, "10.0.0.1");
    counter.release(1, "10.0.0.1");
    assert.equal(counter.count("10.0.0.1"), 0);
    counter.add(1, "10.0.0.1");
    counter.add(1, "10.0.0.1");
    assert.equal(counter.isFull("10.0.0.1"), true, "an extra release must not have left a negative count behind");
  });
});

describe("ConnectionCounter.move", () => {
  it("moves one connection from the primary's hold to a worker: the count stays, the worker's exit releases it", () => {
    const counter = new ConnectionCounter(2);
    counter.add(0, "10.0.0.1");
    counter.move(0, 5, "10.0.0.1");
    assert.equal(counter.count("10.0.0.1"), 1);
    counter.release(0, "10.0.0.1");
    assert.equal(counter.count("10.0.0.1"), 1, "nothing is left in the primary's hold to release");
    counter.releaseWorker(5);
    assert.equal(counter.count("10.0.0.1"), 0);
  });
});
