/**
 * Bad input and abuse against the real gateway (2 workers): each is refused or dropped without
 * a process crash, and the other clients are not disturbed.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { WebSocket } from "ws";
import { connectClient, loopbackAddress, request, type TestClient } from "../helpers/clients.js";
import { handshake, httpRequest, pollPackets, postPackets } from "../helpers/engine-raw.js";
import { ECHO_APP } from "../helpers/fixtures.js";
import { GatewayProcess } from "../helpers/gateway-process.js";
import { waitFor } from "../helpers/wait.js";

describe("bad input and abuse", () => {
  let gateway: GatewayProcess;
  let bystander: TestClient;
  let pids: number[];

  before(async () => {
    gateway = await GatewayProcess.start(["--workers", "2", "--app", ECHO_APP, "--rate-limit", "20", "--cors-origin", "http://good.example"]);
    bystander = await connectClient(gateway.url, { localAddress: loopbackAddress(90), transports: ["websocket"] });
    pids = gateway.workerPids();
  });
  after(async () => {
    try {
      // Nothing above may have cost a worker its life, nor the bystander its connection.
      assert.deepEqual(gateway.workerPids(), pids);
      assert.ok(bystander.socket.connected);
      assert.equal(await request<string>(bystander.socket, "echo", "still fine"), "still fine");
    } finally {
      bystander.close();
      assert.equal((await gateway.stop()).code, 0);
    }
  });

  it("malformed Engine.IO packets close only that session", async () => {
    const address = loopbackAddress(91);
    const sid = await handshake(gateway.port, address);
    // Engine.IO acknowledges the POST, then closes the session over the parse error.
    await postPackets(gateway.port, sid, ["\u0000\u0001zzz not a packet"], address);
    const after = await pollPackets(gateway.port, sid, address);
    assert.equal(after.status, 400, `the session must be gone: ${after.text}`);
  });

  it("malformed Socket.IO packets close only that socket", async () => {
    const address = loopbackAddress(92);
    for (const packet of ['42["echo"', "4" + "9".repeat(50), '42{"not":"an array"}', "41/nope,"]) {
      const sid = await handshake(gateway.port, address);
      assert.equal((await postPackets(gateway.port, sid, ["40"], address)).status, 200);
      await pollPackets(gateway.port, sid, address);
      await postPackets(gateway.port, sid, [packet], address);
      const after = await pollPackets(gateway.port, sid, address);
      // Socket.IO answers a parse error by closing the connection: the next poll sees the close (or the session is gone).
      assert.ok(after.status === 400 || after.packets.includes("1"), `${packet}: ${after.status} ${after.text}`);
    }
  });

  it("a WebSocket frame over the max payload closes that connection with 1009", async () => {
    const ws = new WebSocket(`ws://127.0.0.1:${gateway.port}/socket.io/?EIO=4&transport=websocket`, { localAddress: loopbackAddress(93) });
    await waitFor(ws, "open");
    ws.send(`4${"x".repeat(1_100_000)}`);
    const [code] = await waitFor<[number]>(ws, "close");
    assert.equal(code, 1009);
  });

  it("a long-polling POST over the max body size gets 413", async () => {
    const address = loopbackAddress(94);
    const sid = await handshake(gateway.port, address);
    const response = await postPackets(gateway.port, sid, [`4${"x".repeat(1_100_000)}`], address);
    assert.equal(response.status, 413);
  });

  it("a flooding client is rate-limited, and the others' messages all arrive, in order", async () => {
    const flooder = await connectClient(gateway.url, { localAddress: loopbackAddress(95), transports: ["websocket"] });
    try {
      const told = waitFor<[{ event: string; limit: number }]>(flooder.socket, "sio-gateway:rate-limited");
      // A refused event's ack is never called (the gateway stays out of the app's acks): it times out.
      const flood = Promise.allSettled(Array.from({ length: 500 }, (_, i) => flooder.socket.timeout(3_000).emitWithAck("echo", i)));
      // Half the bystander's burst (20 at --rate-limit 20): the after hook's echo must still pass.
      const echoed: number[] = [];
      for (let i = 0; i < 10; i++) echoed.push(await request<number>(bystander.socket, "echo", i));
      const refused = (await flood).filter((answer) => answer.status === "rejected").length;
      assert.deepEqual((await told)[0], { event: "echo", limit: 20 });
      assert.deepEqual(
        echoed,
        Array.from({ length: 10 }, (_, i) => i),
      );
      assert.ok(refused >= 400, `only ${refused} of 500 flood events were refused at 20/s`);
      assert.ok(flooder.socket.connected, "rate limiting refuses events, it does not drop the client");
    } finally {
      flooder.close();
    }
  });

  it("CORS: only --cors-origin origins get Access-Control-Allow-Origin", async () => {
    const allowedOrigin = async (origin: string) =>
      (await httpRequest(gateway.port, "GET", "/socket.io/?EIO=4&transport=polling", { headers: { Origin: origin }, localAddress: loopbackAddress(96) }))
        .headers["access-control-allow-origin"];
    assert.equal(await allowedOrigin("http://good.example"), "http://good.example");
    const evil = { "access-control-allow-origin": await allowedOrigin("http://evil.example") };
    assert.notEqual(evil["access-control-allow-origin"], "http://evil.example");
    assert.notEqual(evil["access-control-allow-origin"], "*");
  });
});
