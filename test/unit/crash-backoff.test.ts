import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { CrashBackoff } from "../../gateway/primary/crash-backoff.js";

describe("CrashBackoff", () => {
  it("doubles the delay from 100 ms per consecutive crash, capped at maxDelay", () => {
    const backoff = new CrashBackoff(5000, 1000);
    const delays = Array.from({ length: 7 }, () => backoff.onExit(0, 10).delay);
    assert.deepEqual(delays, [100, 200, 400, 800, 1000, 1000, 1000]);
    assert.equal(backoff.onExit(0, 10).crashes, 8);
  });

  it("uses the defaults: 10 s cap, 5 s of healthy uptime", () => {
    const backoff = new CrashBackoff();
    const delays = Array.from({ length: 9 }, () => backoff.onExit(0, 4999).delay);
    assert.deepEqual(delays, [100, 200, 400, 800, 1600, 3200, 6400, 10_000, 10_000]);
    assert.deepEqual(backoff.onExit(0, 5000), { crashes: 0, delay: 0 });
  });

  it("resets after a worker that was ready for at least minHealthyUptime", () => {
    const backoff = new CrashBackoff(5000, 10_000);
    backoff.onExit(0, 0);
    backoff.onExit(0, 0);
    assert.deepEqual(backoff.onExit(0, 0), { crashes: 3, delay: 400 });
    assert.deepEqual(backoff.onExit(0, 5000), { crashes: 0, delay: 0 });
    assert.deepEqual(backoff.onExit(0, 4999), { crashes: 1, delay: 100 });
  });

  it("counts a worker that never became ready as a crash, however long its start took", () => {
    const backoff = new CrashBackoff(5000, 10_000);
    assert.deepEqual(backoff.onExit(0, undefined), { crashes: 1, delay: 100 });
    assert.deepEqual(backoff.onExit(0, undefined), { crashes: 2, delay: 200 });
  });

  it("keeps each slot's count apart", () => {
    const backoff = new CrashBackoff(5000, 10_000);
    backoff.onExit(0, 0);
    backoff.onExit(0, 0);
    assert.deepEqual(backoff.onExit(1, 0), { crashes: 1, delay: 100 });
    assert.deepEqual(backoff.onExit(1, 60_000), { crashes: 0, delay: 0 });
    assert.deepEqual(backoff.onExit(0, 0), { crashes: 3, delay: 400 });
  });
});
