import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { clientIp, trustedProxies } from "../../gateway/client-ip.js";
import { parseRequestHead, type RequestHead } from "../../gateway/primary/request-head.js";
import { chooseSlot, sessionIdOf, slotForIp } from "../../gateway/routing.js";
import { createSessionId, slotOfSessionId } from "../../gateway/session-id.js";

function head(text: string): RequestHead {
  const result = parseRequestHead(Buffer.from(text, "latin1"));
  assert.equal(result.kind, "complete");
  return (result as { head: RequestHead }).head;
}

describe("parseRequestHead", () => {
  it("waits for the end of the head", () => {
    assert.equal(parseRequestHead(Buffer.from("GET /socket.io/?EIO=4 HT")).kind, "incomplete");
    assert.equal(parseRequestHead(Buffer.from("GET / HTTP/1.1\r\nHost: a\r\n")).kind, "incomplete");
    assert.equal(parseRequestHead(Buffer.from("GE")).kind, "incomplete");
  });

  it("parses the request line and joins repeated headers", () => {
    const parsed = head(
      "POST /socket.io/?EIO=4&transport=polling&sid=1_abc HTTP/1.1\r\nHost: x\r\nX-Forwarded-For: 1.1.1.1\r\nx-forwarded-for: 2.2.2.2\r\n\r\nbody",
    );
    assert.equal(parsed.method, "POST");
    assert.equal(parsed.target, "/socket.io/?EIO=4&transport=polling&sid=1_abc");
    assert.equal(parsed.headers.get("x-forwarded-for"), "1.1.1.1, 2.2.2.2");
  });

  it("refuses what is not HTTP/1.x early", () => {
    assert.equal(parseRequestHead(Buffer.from([0x16, 0x03, 0x01, 0x02])).kind, "invalid");
    assert.equal(parseRequestHead(Buffer.from("hello there\r\n")).kind, "invalid");
    assert.equal(parseRequestHead(Buffer.from("GET / HTTP/2.0\r\n\r\n")).kind, "invalid");
    assert.equal(parseRequestHead(Buffer.from("GET / HTTP/1.1\r\nno colon here\r\n\r\n")).kind, "invalid");
  });
});

describe("session ids", () => {
  it("carry their worker slot", () => {
    for (const slot of [0, 1, 7, 63]) {
      const sid = createSessionId(slot);
      assert.match(sid, /^[A-Za-z0-9_-]+$/);
      assert.equal(slotOfSessionId(sid), slot);
    }
  });

  it("ignore ids that are not ours", () => {
    assert.equal(slotOfSessionId("abc"), undefined);
    assert.equal(slotOfSessionId("x_0123456789abcdefghij"), undefined);
    assert.equal(slotOfSessionId(""), undefined);
  });

  it("are read from the query string", () => {
    assert.equal(sessionIdOf("/socket.io/?EIO=4&transport=websocket&sid=3_AAAAAAAAAAAAAAAAAAAA"), "3_AAAAAAAAAAAAAAAAAAAA");
    assert.equal(sessionIdOf("/socket.io/?EIO=4&transport=polling"), undefined);
    assert.equal(sessionIdOf("/"), undefined);
    // The scan in place reads what URLSearchParams reads: the first sid, a bare or empty one, none in other names; encoded queries decoded.
    for (const target of [
      "/socket.io/?sid=1_a&sid=2_b",
      "/socket.io/?EIO=4&sid",
      "/socket.io/?EIO=4&sid=&x=1",
      "/socket.io/?xsid=1_a&sidx=2&sid=3_c",
      "/socket.io/?sid=a=b&t=1",
      "/socket.io/?&&sid=1_a",
      "/socket.io/?EIO=4&s%69d=4_d",
      "/socket.io/?sid=1%5Fa+b",
      "/socket.io/?",
    ]) {
      assert.equal(sessionIdOf(target), new URLSearchParams(target.slice(target.indexOf("?") + 1)).get("sid") ?? undefined, target);
    }
  });
});

describe("clientIp", () => {
  const trusted = trustedProxies(["127.0.0.1", "10.0.0.0/8"]);

  it("is the peer when the peer is not a trusted proxy (headers are ignored)", () => {
    assert.equal(clientIp("::ffff:127.0.0.9", new Map([["x-forwarded-for", "8.8.8.8"]]), trusted), "127.0.0.9");
  });

  it("is the rightmost untrusted X-Forwarded-For entry from a trusted proxy", () => {
    assert.equal(clientIp("127.0.0.1", new Map([["x-forwarded-for", "6.6.6.6, 203.0.113.5, 10.1.1.1"]]), trusted), "203.0.113.5");
  });

  it("ignores forwarding headers entirely without --trust-proxy", () => {
    assert.equal(
      clientIp(
        "127.0.0.1",
        new Map([
          ["x-forwarded-for", "8.8.8.8"],
          ["x-real-ip", "8.8.4.4"],
        ]),
        trustedProxies([]),
      ),
      "127.0.0.1",
    );
  });

  it("falls back to X-Real-IP, then to the peer", () => {
    assert.equal(clientIp("127.0.0.1", new Map([["x-real-ip", "198.51.100.7"]]), trusted), "198.51.100.7");
    assert.equal(clientIp("127.0.0.1", new Map([["x-forwarded-for", "garbage"]]), trusted), "127.0.0.1");
  });
});

describe("slot choice", () => {
  it("hashes an IP to the same slot every time, and spreads IPs over all slots", () => {
    for (const workers of [2, 3, 4]) {
      const counts = new Array<number>(workers).fill(0);
      for (let i = 1; i <= 200; i++) {
        const ip = `127.0.${i >> 8}.${i & 255}`;
        const slot = slotForIp(ip, workers);
        assert.equal(slotForIp(ip, workers), slot);
        counts[slot]++;
      }
      for (const count of counts) assert.ok(count > 200 / workers / 2, `uneven spread over ${workers} slots: ${counts.join(",")}`);
    }
  });

  it("follows the session cookie (when configured) over the IP, and the query's sid over the cookie", () => {
    const ip = "127.0.0.5";
    const other = (slotForIp(ip, 2) + 1) % 2;
    const cookie = `theme=dark; io=${createSessionId(other)}; x=1`;
    assert.deepEqual(chooseSlot(head(`GET /socket.io/?EIO=4&transport=polling HTTP/1.1\r\nCookie: ${cookie}\r\n\r\n`), ip, 2, "io"), {
      slot: other,
      reason: "cookie",
    });
    assert.deepEqual(chooseSlot(head(`GET /socket.io/?EIO=4&transport=polling HTTP/1.1\r\nCookie: ${cookie}\r\n\r\n`), ip, 2), {
      slot: slotForIp(ip, 2),
      reason: "ip",
    });
    const query = createSessionId(slotForIp(ip, 2));
    assert.deepEqual(chooseSlot(head(`GET /socket.io/?sid=${query} HTTP/1.1\r\nCookie: ${cookie}\r\n\r\n`), ip, 2, "io"), {
      slot: slotForIp(ip, 2),
      reason: "session",
    });
    assert.deepEqual(chooseSlot(head(`GET / HTTP/1.1\r\nCookie: io=garbage\r\n\r\n`), ip, 2, "io"), { slot: slotForIp(ip, 2), reason: "ip" });
  });

  it("follows the session over the IP, when the session names an existing slot", () => {
    const ip = "127.0.0.5";
    const other = (slotForIp(ip, 2) + 1) % 2;
    assert.deepEqual(chooseSlot(head(`GET /socket.io/?sid=${createSessionId(other)} HTTP/1.1\r\n\r\n`), ip, 2), { slot: other, reason: "session" });
    assert.deepEqual(chooseSlot(head(`GET /socket.io/?sid=${createSessionId(5)} HTTP/1.1\r\n\r\n`), ip, 2), { slot: slotForIp(ip, 2), reason: "ip" });
    assert.deepEqual(chooseSlot(head("GET / HTTP/1.1\r\n\r\n"), ip, 2), { slot: slotForIp(ip, 2), reason: "ip" });
  });
});
