import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { clampLimit } from "../../adapter/presence/presence-keys.js";
import { asPresenceRequest, asPresenceToWorker, PRESENCE_IPC_SOURCE } from "../../gateway/presence-ipc.js";

const source = PRESENCE_IPC_SOURCE;

describe("presence IPC messages", () => {
  it("well-formed requests pass as fresh objects of their checked fields", () => {
    assert.deepEqual(asPresenceRequest({ source, id: 1, type: "heartbeat", extra: "dropped" }), { source, id: 1, type: "heartbeat" });
    assert.deepEqual(asPresenceRequest({ source, id: 2, type: "join", namespace: "/", room: "r", member: "s1", info: "{}" }), {
      source,
      id: 2,
      type: "join",
      namespace: "/",
      room: "r",
      member: "s1",
      info: "{}",
    });
    assert.equal(asPresenceRequest({ source, id: 3, type: "members", namespace: "/", room: "r", limit: 10 })?.type, "members");
  });

  it("anything else is dropped: other sources, missing or mistyped fields, unknown types", () => {
    for (const bad of [
      null,
      "join",
      { source: "sio-gateway", id: 1, type: "heartbeat" },
      { source, type: "heartbeat" },
      { source, id: 1.5, type: "heartbeat" },
      { source, id: 1, type: "join", namespace: "/", room: "r", member: "s1" },
      { source, id: 1, type: "leave", namespace: "/", room: 7, member: "s1" },
      { source, id: 1, type: "members", namespace: "/", room: "r", limit: -1 },
      { source, id: 1, type: "explode", namespace: "/", room: "r" },
    ]) {
      assert.equal(asPresenceRequest(bad), undefined, JSON.stringify(bad));
    }
    assert.equal(asPresenceToWorker({ source, type: "change" }), undefined);
    assert.equal(asPresenceToWorker({ source: "other", type: "result", id: 1 }), undefined);
  });

  it("member-list limits: integers from 0 to the maximum, anything else the default", () => {
    assert.equal(clampLimit(undefined, 100, 10_000), 100);
    assert.equal(clampLimit(Number.NaN, 100, 10_000), 100);
    assert.equal(clampLimit("5", 100, 10_000), 100);
    assert.equal(clampLimit(-3, 100, 10_000), 0);
    assert.equal(clampLimit(2.7, 100, 10_000), 2);
    assert.equal(clampLimit(1e9, 100, 10_000), 10_000);
  });
});
