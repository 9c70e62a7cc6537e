import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createSessionId, slotOfSessionId } from "../../gateway/session-id.js";

describe("session ids from pooled random bytes", () => {
  it("never repeat across refills of the pool, and each carries 120 random bits", () => {
    // 256 ids per pool: 2,000 ids cross several refills.
    const ids = Array.from({ length: 2000 }, (_, i) => createSessionId(i % 4));
    assert.equal(new Set(ids).size, ids.length);
    const randoms = new Set<string>();
    ids.forEach((id, i) => {
      assert.equal(slotOfSessionId(id), i % 4);
      const random = id.slice(id.indexOf("_") + 1);
      assert.match(random, /^[A-Za-z0-9_-]{20}$/); // 15 bytes in base64url
      randoms.add(random);
    });
    assert.equal(randoms.size, ids.length);
  });
});
