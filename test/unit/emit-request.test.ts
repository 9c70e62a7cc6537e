import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseEmitRequest } from "../../gateway/worker/emit-request.js";

describe("parseEmitRequest", () => {
  it("fills the defaults and keeps data as given, absent when absent", () => {
    assert.deepEqual(parseEmitRequest({ event: "news" }), { ok: true, request: { event: "news", to: [], except: [], namespace: "/" } });
    assert.deepEqual(parseEmitRequest({ event: "news", data: null, to: "a", except: ["b"], namespace: "/admin" }), {
      ok: true,
      request: { event: "news", data: null, to: ["a"], except: ["b"], namespace: "/admin" },
    });
  });

  it("names what is wrong", () => {
    const error = (body: unknown) => {
      const result = parseEmitRequest(body);
      assert.equal(result.ok, false);
      return (result as { error: string }).error;
    };
    assert.match(error(null), /JSON object body/);
    assert.match(error([{ event: "x" }]), /JSON object body/);
    assert.match(error({}), /"event" must be a non-empty string/);
    assert.match(error({ event: "disconnect" }), /reserved/);
    assert.match(error({ event: "x", to: [1] }), /"to" must be/);
    assert.match(error({ event: "x", except: "" }), /"except" must be/);
    assert.match(error({ event: "x", namespace: "admin" }), /"namespace" must be a string starting with "\/"/);
    assert.match(error({ event: "x", room: "a" }), /unknown field "room"/);
  });
});

describe("parseEmitRequest data limits", () => {
  it("refuses data nested deeper than 32 levels, and accepts 32", () => {
    const nested = (depth: number): unknown => {
      let value: unknown = 1;
      for (let i = 0; i < depth; i++) value = [value];
      return value;
    };
    const deep = parseEmitRequest({ event: "news", data: nested(20_000) });
    assert.deepEqual(deep, { ok: false, error: '"data" nested deeper than 32 levels: it cannot be delivered' });
    assert.equal(parseEmitRequest({ event: "news", data: nested(32) }).ok, true);
  });
});
