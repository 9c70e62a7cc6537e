import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { valueOverLimits } from "../../common/bounded-value.js";
import { MAX_RECORD_CHARS, publicRecordJson } from "../../adapter/presence/public-record.js";
import { parseChangeMessage } from "../../adapter/presence/change-message.js";
import { AUTH_LIMITS, handshakeRefusal } from "../../gateway/worker/handshake-guard.js";
import { gatewayErrorMessage } from "../helpers/errors.js";

/** `{a:{a:…1…}}`, `depth` levels, built without recursion. */
function nested(depth: number): unknown {
  let value: unknown = 1;
  for (let i = 0; i < depth; i++) value = { a: value };
  return value;
}

describe("client data bounds", () => {
  it("walks 20,000 levels without overflowing the stack, and stops at the depth limit", () => {
    assert.equal(valueOverLimits(nested(20_000), { maxChars: 1e9, maxDepth: 8 }), "nested deeper than 8 levels");
    assert.equal(valueOverLimits(nested(8), { maxChars: 1000, maxDepth: 8 }), undefined);
    assert.equal(valueOverLimits(nested(9), { maxChars: 1000, maxDepth: 8 }), "nested deeper than 8 levels");
  });

  it("stops at the size limit: long strings, many keys, long arrays", () => {
    const limits = { maxChars: 100, maxDepth: 8 };
    assert.equal(valueOverLimits({ token: "x".repeat(200) }, limits), "larger than 100 characters");
    assert.equal(valueOverLimits(Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`k${i}`, 1])), limits), "larger than 100 characters");
    assert.equal(
      valueOverLimits(
        Array.from({ length: 200 }, () => 0),
        limits,
      ),
      "larger than 100 characters",
    );
    assert.equal(valueOverLimits({ token: "abc", user: { id: 7 } }, limits), undefined);
    assert.equal(valueOverLimits(undefined, limits), undefined);
  });

  it("handshakes: auth and query refused with a reason naming the limit", () => {
    assert.equal(handshakeRefusal({ auth: { token: "jwt" }, query: { EIO: "4", transport: "websocket" } }), undefined);
    assert.deepEqual(handshakeRefusal({ auth: nested(20_000), query: {} }), {
      reason: "auth",
      message: `handshake auth nested deeper than ${AUTH_LIMITS.maxDepth} levels`,
    });
    assert.equal(handshakeRefusal({ auth: {}, query: { junk: "q".repeat(5000) } })?.reason, "query");
  });

  it("a member's public record: a small plain object, or nothing", () => {
    assert.equal(publicRecordJson(undefined), "{}");
    assert.equal(publicRecordJson({ name: "Ada" }), '{"name":"Ada"}');
    assert.match(
      gatewayErrorMessage(() => publicRecordJson({ bio: "x".repeat(MAX_RECORD_CHARS) }), "ERR_INVALID_PRESENCE"),
      /larger than 512 characters/,
    );
    assert.match(
      gatewayErrorMessage(() => publicRecordJson(nested(10)), "ERR_INVALID_PRESENCE"),
      /nested deeper than 4 levels/,
    );
    assert.match(
      gatewayErrorMessage(() => publicRecordJson(["a"]), "ERR_INVALID_PRESENCE"),
      /expected a plain object, got an array/,
    );
    assert.match(
      gatewayErrorMessage(() => publicRecordJson("name"), "ERR_INVALID_PRESENCE"),
      /got string/,
    );
  });

  it("change messages from Redis: checked field by field, anything else dropped", () => {
    assert.deepEqual(parseChangeMessage('{"n":"/","r":"lobby","c":2,"s":9,"k":"join","m":"s1","i":"{\\"name\\":\\"Ada\\"}"}'), {
      namespace: "/",
      room: "lobby",
      count: 2,
      seq: 9,
      kind: "join",
      member: { id: "s1", info: { name: "Ada" } },
    });
    for (const bad of [
      "not json",
      "null",
      '{"n":"/","r":"x","c":-1,"s":1,"k":"join"}',
      '{"n":"/","r":"x","c":1,"s":1,"k":"party"}',
      '{"r":"x","c":1,"s":1,"k":"leave"}',
    ]) {
      assert.equal(parseChangeMessage(bad), undefined, bad);
    }
  });
});
