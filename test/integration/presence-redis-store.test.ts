/**
 * The Redis presence store's scripts against a real redis-server: owners with deadlines, reaping
 * by another owner, a forgotten owner re-joining, a recovered socket id that moved owners, and a
 * dead owner with more members than one REAP batch. An owner "dies" by having its deadline set in
 * the past (what the passing of OWNER_TTL without a heartbeat does), so no test depends on how
 * fast a loaded machine runs.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { Redis } from "ioredis";
import { pino } from "pino";
import { presenceKeys } from "../../adapter/presence/presence-keys.js";
import { RedisPresenceStore } from "../../adapter/presence/redis-presence.js";
import { UNKNOWN_OWNER, type PresenceChange } from "../../adapter/presence/types.js";
import { RedisServer } from "../helpers/redis-server.js";
import { waitUntil } from "../helpers/wait.js";

describe("Redis presence store", () => {
  let redis: RedisServer;
  let raw: Redis;
  const stores: RedisPresenceStore[] = [];

  function store(owner: string): RedisPresenceStore {
    const created = new RedisPresenceStore(redis.url, { owner, ownerTtl: 60_000, timeout: 5000 }, pino({ level: "silent" }));
    stores.push(created);
    return created;
  }

  /** The owner's deadline passes: as if it had not heartbeaten for OWNER_TTL. */
  async function expire(owner: string): Promise<void> {
    await raw.zadd(presenceKeys().owners, 1, owner);
  }

  before(async () => {
    redis = await RedisServer.start();
    raw = new Redis(redis.url);
  });
  after(async () => {
    for (const created of stores) await created.close();
    raw.disconnect();
    await redis.stop();
  });

  it("joins and leaves count per room; every store hears every change, in seq order", async () => {
    const [a, b] = [store("a1"), store("b1")];
    await Promise.all([a.heartbeat(), b.heartbeat()]);
    const heard: PresenceChange[] = [];
    b.onChange((change) => change.room === "lobby" && heard.push(change));
    // The subscription is asynchronous: a first change heard confirms it is in place. Each try joins
    // a new member (joining one already in is no change, so a join made before the subscription
    // would never be heard again), and every one of them leaves before the test proper.
    const warm: string[] = [];
    await waitUntil(async () => {
      warm.push(`warm${warm.length}`);
      await a.join("/", "lobby", warm[warm.length - 1], "{}");
      return heard.length > 0;
    }, "b hears a's join");
    for (const member of warm) await a.leave("/", "lobby", member);
    await waitUntil(() => heard.filter((change) => change.kind === "leave").length === warm.length, "b hears every warm-up member leave");
    heard.length = 0;

    const first = await a.join("/", "lobby", "s1", '{"name":"Ada"}');
    const second = await b.join("/", "lobby", "s2", "{}");
    assert.ok(first !== UNKNOWN_OWNER && second !== UNKNOWN_OWNER);
    assert.equal(first.count, 1);
    assert.equal(second.count, 2);
    assert.ok(second.seq > first.seq);
    assert.equal(await b.count("/", "lobby"), 2);
    assert.deepEqual(await a.leave("/", "lobby", "s2"), { count: 2, seq: second.seq }, "a cannot remove b's member");
    assert.equal((await b.leave("/", "lobby", "s2")).count, 1);
    await waitUntil(() => heard.length === 3, "three changes heard");
    assert.deepEqual(
      heard.map(({ kind, count, member }) => [kind, count, member?.id]),
      [
        ["join", 1, "s1"],
        ["join", 2, "s2"],
        ["leave", 1, "s2"],
      ],
    );
    assert.deepEqual(heard[0].member?.info, { name: "Ada" });
    assert.deepEqual(await b.members("/", "lobby", 10), [{ id: "s1", info: { name: "Ada" } }]);
  });

  it("an owner past its deadline loses its members to another owner's reap; it is told it was forgotten and joins again", async () => {
    const [hung, alive] = [store("hung"), store("alive")];
    await Promise.all([hung.heartbeat(), alive.heartbeat()]);
    await hung.join("/", "room", "h1", "{}");
    await alive.join("/", "room", "a1", "{}");
    assert.equal(await alive.count("/", "room"), 2);
    await expire("hung");
    await alive.reap();
    assert.equal(await alive.count("/", "room"), 1, "the hung owner's member is reaped");
    assert.equal(await hung.join("/", "room", "h2", "{}"), UNKNOWN_OWNER, "a join must not outlive its owner's reaping");
    assert.equal(await hung.heartbeat(), false);
    assert.equal(await hung.heartbeat(), true);
    assert.notEqual(await hung.join("/", "room", "h1", "{}"), UNKNOWN_OWNER);
    assert.equal(await alive.count("/", "room"), 2);
  });

  it("a socket id that moved to a new owner (recovered session) stays when its old owner is reaped", async () => {
    const [old, replacement] = [store("old"), store("new")];
    await Promise.all([old.heartbeat(), replacement.heartbeat()]);
    assert.notEqual(await old.join("/", "moved", "s1", "{}"), UNKNOWN_OWNER);
    assert.notEqual(await replacement.join("/", "moved", "s1", "{}"), UNKNOWN_OWNER);
    await expire("old");
    await replacement.reap();
    assert.equal(await raw.zscore(presenceKeys().owners, "old"), null, "the old owner is reaped");
    assert.deepEqual(await replacement.members("/", "moved", 10), [{ id: "s1", info: {} }]);
  });

  it("a dead owner with more members than one REAP batch is emptied by one reap()", async () => {
    const [dead, alive] = [store("dead"), store("reaper")];
    await Promise.all([dead.heartbeat(), alive.heartbeat()]);
    await Promise.all(Array.from({ length: 1200 }, (_, i) => dead.join("/", "big", `d${i}`, "{}")));
    assert.equal(await alive.count("/", "big"), 1200);
    await expire("dead");
    await alive.reap();
    assert.equal(await alive.count("/", "big"), 0, "every member of the dead owner is reaped");
  });
});
