/**
 * The primary's routing guarantees 1–5 (shared/CONTRACT.md), each shown against the real
 * gateway (2 workers, single-machine mode) with clients from distinct 127.0.x.y addresses.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { WebSocket } from "ws";
import { slotForIp } from "../../gateway/routing.js";
import { slotOfSessionId } from "../../gateway/session-id.js";
import { connectClient, loopbackAddress, request, whenUpgraded } from "../helpers/clients.js";
import { handshake, httpRequest, isCompleteResponse, pollPackets, postPackets, sendInPieces } from "../helpers/engine-raw.js";
import { binaryPayload, ECHO_APP, KOREAN_TEXT } from "../helpers/fixtures.js";
import { GatewayProcess } from "../helpers/gateway-process.js";
import { waitFor } from "../helpers/wait.js";

const WORKERS = 2;

/** A loopback address whose IP hash is not `slot`: a request from it reaches `slot` only by its sid. */
function addressAwayFrom(slot: number, start = 100): string {
  for (let n = start; n < start + 100; n++) if (slotForIp(loopbackAddress(n), WORKERS) !== slot) return loopbackAddress(n);
  throw new Error("no address hashes away from the slot");
}

describe("routing guarantees", () => {
  let gateway: GatewayProcess;

  before(async () => {
    gateway = await GatewayProcess.start(["--workers", String(WORKERS), "--app", ECHO_APP, "--header-timeout", "500"]);
  });
  after(async () => {
    const result = await gateway.stop();
    assert.equal(result.code, 0, result.stderr);
  });

  it("1. sends one IP's connections to one worker: polling, the upgrade, reconnections; IPs spread over all workers", async () => {
    const seen = new Set<number>();
    for (let n = 0; n < 16; n++) {
      const localAddress = loopbackAddress(n);
      const expected = slotForIp(localAddress, WORKERS);
      const client = await connectClient(gateway.url, { localAddress });
      assert.equal(client.hello.worker, expected, `${localAddress} on polling`);
      await whenUpgraded(client.socket);
      const after = await request<{ worker: number; transport: string }>(client.socket, "whoami");
      assert.deepEqual([after.worker, after.transport], [expected, "websocket"], `${localAddress} after the upgrade`);
      client.close();
      const again = await connectClient(gateway.url, { localAddress });
      assert.equal(again.hello.worker, expected, `${localAddress} reconnected`);
      again.close();
      seen.add(expected);
    }
    assert.deepEqual([...seen].sort(), [0, 1]);
  });

  it("2. continues a polling session from other addresses, and upgrades it to WebSocket from another address", async () => {
    const sid = await handshake(gateway.port, loopbackAddress(1));
    const slot = slotOfSessionId(sid);
    assert.notEqual(slot, undefined, `sid ${sid} names no slot`);
    const elsewhere = addressAwayFrom(slot!);
    const connectResponse = await postPackets(gateway.port, sid, ["40"], elsewhere);
    assert.equal(connectResponse.status, 200, connectResponse.body.toString());
    const poll = await pollPackets(gateway.port, sid, addressAwayFrom(slot!, 150));
    assert.equal(poll.status, 200, poll.text);
    assert.match(poll.packets[0], /^40\{"sid":/);

    const ws = new WebSocket(`ws://127.0.0.1:${gateway.port}/socket.io/?EIO=4&transport=websocket&sid=${sid}`, { localAddress: addressAwayFrom(slot!, 200) });
    await waitFor(ws, "open");
    ws.send("2probe");
    const [probe] = await waitFor<[Buffer]>(ws, "message");
    assert.equal(probe.toString(), "3probe");
    ws.close();
  });

  it("2. answers a request naming an unknown session with 400, and keeps serving", async () => {
    const bogus = await pollPackets(gateway.port, "1_AAAAAAAAAAAAAAAAAAAAAAAAA", loopbackAddress(2));
    assert.equal(bogus.status, 400);
    const health = await httpRequest(gateway.port, "GET", "/healthz", { localAddress: loopbackAddress(2) });
    assert.equal(health.status, 200);
  });

  it("4. keeps multi-byte text and binary intact over polling and WebSocket", async () => {
    const binary = binaryPayload();
    for (const transports of [["polling"], ["websocket"]] as const) {
      const client = await connectClient(gateway.url, { localAddress: loopbackAddress(3), transports: [...transports] });
      assert.equal(await request<string>(client.socket, "echo", KOREAN_TEXT), KOREAN_TEXT, `${transports[0]}: Korean text`);
      const echoed = await request<Buffer>(client.socket, "echo", binary);
      assert.ok(Buffer.from(echoed).equals(binary), `${transports[0]}: 200 KiB binary`);
      client.close();
    }
  });

  it("4. passes a POST whose body arrives after its head, split inside a UTF-8 character, to the right worker", async () => {
    const owner = loopbackAddress(4);
    const sid = await handshake(gateway.port, owner);
    assert.equal((await postPackets(gateway.port, sid, ["40"], owner)).status, 200);
    await pollPackets(gateway.port, sid, owner); // the CONNECT answer and hello

    const body = Buffer.from(`421${JSON.stringify(["echo", KOREAN_TEXT])}`, "utf8");
    const head = Buffer.from(
      `POST /socket.io/?EIO=4&transport=polling&sid=${sid} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: text/plain;charset=UTF-8\r\nContent-Length: ${body.length}\r\n\r\n`,
    );
    const cut = 1000 + 1; // inside the 3-byte character that starts at byte 1000 of the text part
    const pieces = [head.subarray(0, 20), head.subarray(20), body.subarray(0, cut), body.subarray(cut)];
    const response = await sendInPieces(gateway.port, pieces, {
      localAddress: addressAwayFrom(slotOfSessionId(sid)!),
      gap: 100,
      responseComplete: isCompleteResponse,
    });
    assert.match(response.toString("latin1"), /^HTTP\/1\.1 200 /);
    const answer = await pollPackets(gateway.port, sid, owner);
    assert.deepEqual(answer.packets, [`431${JSON.stringify([KOREAN_TEXT])}`]);
  });

  it("5. drops a client that sends half a request line after the header timeout, with a 408", async () => {
    const started = Date.now();
    const response = await sendInPieces(gateway.port, [Buffer.from("GET /socket.io/?EIO=4&tra")], { localAddress: loopbackAddress(5) });
    assert.match(response.toString("latin1"), /^HTTP\/1\.1 408 /);
    assert.ok(Date.now() - started < 5000, "the connection was held far longer than the 500 ms header timeout");
  });

  it("5. refuses headers over the size limit with a 431, and garbage with a 400, and keeps serving", async () => {
    const huge = Buffer.from(`GET / HTTP/1.1\r\nX-Filler: ${"a".repeat(20_000)}\r\n\r\n`);
    const tooLarge = await sendInPieces(gateway.port, [huge], { localAddress: loopbackAddress(6) });
    assert.match(tooLarge.toString("latin1"), /^HTTP\/1\.1 431 /);
    const garbage = await sendInPieces(gateway.port, [Buffer.from([0x16, 0x03, 0x01, 0xff, 0x00, 0x13, 0x37])], { localAddress: loopbackAddress(6) });
    assert.match(garbage.toString("latin1"), /^HTTP\/1\.1 400 /);
    const client = await connectClient(gateway.url, { localAddress: loopbackAddress(6) });
    assert.equal(await request<string>(client.socket, "echo", "still here"), "still here");
    client.close();
  });
});

describe("routing behind a trusted proxy", () => {
  let gateway: GatewayProcess;

  before(async () => {
    gateway = await GatewayProcess.start(["--workers", String(WORKERS), "--app", ECHO_APP, "--trust-proxy", "127.0.0.1"]);
  });
  after(async () => {
    assert.equal((await gateway.stop()).code, 0);
  });

  it("3. routes by X-Forwarded-For / X-Real-IP from a trusted address, and ignores them from others", async () => {
    const proxySlot = slotForIp("127.0.0.1", WORKERS);
    // Documentation-range addresses: header values only, no traffic goes there.
    const forwarded = ["203.0.113.1", "203.0.113.2", "203.0.113.3", "203.0.113.4", "203.0.113.5", "203.0.113.6"];
    assert.ok(
      forwarded.some((ip) => slotForIp(ip, WORKERS) !== proxySlot),
      "test needs a forwarded IP that hashes away from the proxy",
    );
    for (const ip of forwarded) {
      const viaXff = await connectClient(gateway.url, { localAddress: "127.0.0.1", extraHeaders: { "X-Forwarded-For": `198.51.100.99, ${ip}` } });
      assert.equal(viaXff.hello.worker, slotForIp(ip, WORKERS), `X-Forwarded-For ${ip}`);
      viaXff.close();
      const viaRealIp = await connectClient(gateway.url, { localAddress: "127.0.0.1", extraHeaders: { "X-Real-IP": ip } });
      assert.equal(viaRealIp.hello.worker, slotForIp(ip, WORKERS), `X-Real-IP ${ip}`);
      viaRealIp.close();
    }
    for (let n = 10; n < 14; n++) {
      const untrusted = loopbackAddress(n);
      const client = await connectClient(gateway.url, {
        localAddress: untrusted,
        extraHeaders: { "X-Forwarded-For": forwarded[0], "X-Real-IP": forwarded[0] },
      });
      assert.equal(client.hello.worker, slotForIp(untrusted, WORKERS), `headers from untrusted ${untrusted} must be ignored`);
      client.close();
    }
  });
});
