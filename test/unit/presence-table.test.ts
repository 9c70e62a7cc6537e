import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { PresenceTable } from "../../adapter/presence/presence-table.js";

const TTL = 7000;

/** A table with owners "a" and "b" alive at time 0. */
function table(): PresenceTable {
  const presence = new PresenceTable();
  presence.heartbeat("a", 0, TTL);
  presence.heartbeat("b", 0, TTL);
  return presence;
}

const member = (id: string, info = "{}"): { id: string; infoJson: string } => ({ id, infoJson: info });

describe("PresenceTable (single-machine presence in the primary)", () => {
  it("counts joins and leaves per namespace and room; seq orders every change", () => {
    const presence = table();
    assert.deepEqual(presence.join("a", "/", "lobby", member("s1"), 0)?.result, { count: 1, seq: 1 });
    assert.deepEqual(presence.join("b", "/", "lobby", member("s2"), 0)?.result, { count: 2, seq: 2 });
    assert.equal(presence.join("b", "/admin", "lobby", member("s3"), 0)?.result.count, 1);
    assert.equal(presence.count("/", "lobby"), 2);
    const left = presence.leave("a", "/", "lobby", "s1");
    assert.deepEqual(left.result, { count: 1, seq: 4 });
    assert.deepEqual(left.change, { namespace: "/", room: "lobby", count: 1, seq: 4, kind: "leave", member: { id: "s1", info: {} } });
  });

  it("a repeated join is no change; a join carries the member's public record", () => {
    const presence = table();
    const first = presence.join("a", "/", "lobby", member("s1", '{"name":"Ada"}'), 0);
    assert.deepEqual(first?.change?.member, { id: "s1", info: { name: "Ada" } });
    const again = presence.join("a", "/", "lobby", member("s1", '{"name":"Ada"}'), 0);
    assert.equal(again?.change, undefined);
    assert.deepEqual(presence.members("/", "lobby", 10), [{ id: "s1", info: { name: "Ada" } }]);
  });

  it("a leave of another owner's member, or of nobody, changes nothing", () => {
    const presence = table();
    presence.join("a", "/", "lobby", member("s1"), 0);
    assert.equal(presence.leave("b", "/", "lobby", "s1").change, undefined);
    assert.equal(presence.leave("a", "/", "lobby", "nobody").change, undefined);
    assert.equal(presence.count("/", "lobby"), 1);
  });

  it("an exited owner's members go at once, one change per room", () => {
    const presence = table();
    for (let i = 0; i < 50; i++) presence.join("a", "/", "lobby", member(`a${i}`), 0);
    for (let i = 0; i < 50; i++) presence.join("b", "/", "lobby", member(`b${i}`), 0);
    presence.join("a", "/", "other", member("a0"), 0);
    const changes = presence.dropOwner("a");
    assert.deepEqual(
      changes.map(({ room, count, kind }) => ({ room, count, kind })),
      [
        { room: "lobby", count: 50, kind: "expire" },
        { room: "other", count: 0, kind: "expire" },
      ],
    );
    assert.equal(presence.count("/", "lobby"), 50);
    assert.equal(presence.join("a", "/", "lobby", member("a0"), 0), undefined, "a dropped owner cannot join before its heartbeat");
  });

  it("a hung owner expires after its deadline; its heartbeat then says it was forgotten, and it joins again", () => {
    const presence = table();
    presence.join("a", "/", "lobby", member("s1"), 0);
    presence.heartbeat("b", 6000, TTL);
    assert.deepEqual(presence.expire(6000), []);
    assert.equal(presence.expire(7001).length, 1);
    assert.equal(presence.count("/", "lobby"), 0);
    assert.equal(presence.heartbeat("a", 8000, TTL), false);
    assert.equal(presence.join("a", "/", "lobby", member("s1"), 8000)?.result.count, 1);
    assert.equal(presence.heartbeat("a", 9000, TTL), true);
  });

  it("a heartbeat after the deadline, before the expiry ran, drops the old members too (they are re-joined)", () => {
    const presence = table();
    presence.join("a", "/", "lobby", member("s1"), 0);
    assert.equal(presence.heartbeat("a", 7500, TTL), false);
    assert.equal(presence.count("/", "lobby"), 0);
  });

  it("a socket id that moved to a new owner (recovered session) is not removed with its old owner", () => {
    const presence = table();
    presence.join("a", "/", "lobby", member("s1"), 0);
    presence.join("b", "/", "lobby", member("s1"), 0);
    presence.dropOwner("a");
    assert.deepEqual(presence.members("/", "lobby", 10), [{ id: "s1", info: {} }]);
  });

  it("members stops at the limit", () => {
    const presence = table();
    for (let i = 0; i < 20; i++) presence.join("a", "/", "big", member(`s${i}`), 0);
    assert.equal(presence.members("/", "big", 5).length, 5);
    assert.equal(presence.count("/", "big"), 20);
  });
});
