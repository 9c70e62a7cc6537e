import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { TokenBucket } from "../../gateway/worker/rate-limit.js";

/** A clock the test moves by hand, in ms. */
function manualClock(): { now: () => number; advance: (ms: number) => void } {
  let time = 1_000;
  return { now: () => time, advance: (ms) => void (time += ms) };
}

/** How many tokens `take()` hands out before it refuses, the clock standing still. */
function drain(bucket: TokenBucket): number {
  let taken = 0;
  while (bucket.take()) taken++;
  return taken;
}

describe("TokenBucket", () => {
  it("starts full: a burst of `rate` events, then refuses", () => {
    const clock = manualClock();
    const bucket = new TokenBucket(5, clock.now);
    assert.equal(drain(bucket), 5);
    assert.equal(bucket.take(), false);
    assert.equal(bucket.take(), false);
  });

  it("refills in proportion to the elapsed time", () => {
    const clock = manualClock();
    const bucket = new TokenBucket(10, clock.now);
    drain(bucket);
    clock.advance(99); // 0.99 token
    assert.equal(bucket.take(), false);
    clock.advance(1); // 1.0 token
    assert.equal(bucket.take(), true);
    assert.equal(bucket.take(), false);
    clock.advance(300); // 3 tokens
    assert.equal(drain(bucket), 3);
  });

  it("keeps fractions of a token between calls", () => {
    const clock = manualClock();
    const bucket = new TokenBucket(4, clock.now);
    drain(bucket);
    clock.advance(125); // 0.5 token
    assert.equal(bucket.take(), false);
    clock.advance(125); // 0.5 more: 1 token
    assert.equal(bucket.take(), true);
  });

  it("never holds more than `rate` tokens, however long it was idle", () => {
    const clock = manualClock();
    const bucket = new TokenBucket(3, clock.now);
    clock.advance(60_000);
    assert.equal(drain(bucket), 3);
    drain(bucket);
    clock.advance(3_600_000);
    assert.equal(drain(bucket), 3);
  });
});
