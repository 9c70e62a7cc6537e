/**
 * The demo app's own pieces around presence: its chat limit (under the gateway's, which drops
 * events without answering) answers `{ ok: false, error: "too many messages" }`; a member's public
 * record is its display name, never the rest of the handshake; the favicon is served.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { CHAT_RATE, TOO_MANY_MESSAGES } from "../../demo-app/validation.js";
import { connectClient, loopbackAddress, request, type TestClient } from "../helpers/clients.js";
import { httpRequest } from "../helpers/engine-raw.js";
import { GatewayProcess } from "../helpers/gateway-process.js";

const TOKEN = "demo-presence-token";

describe("demo app: chat limit, public records, favicon (2 workers, single-machine)", () => {
  let gateway: GatewayProcess;
  const clients: TestClient[] = [];

  before(async () => {
    gateway = await GatewayProcess.start(["--workers", "2", "--emit-token", TOKEN]);
  });
  after(async () => {
    for (const client of clients) client.close();
    const result = await gateway.stop();
    assert.equal(result.code, 0, result.stderr);
  });

  it(`a burst of ${CHAT_RATE + 10} chats: ${CHAT_RATE} pass, the rest answer "${TOO_MANY_MESSAGES}", the connection stays`, async () => {
    const client = await connectClient(gateway.url, { localAddress: loopbackAddress(800), transports: ["websocket"] });
    clients.push(client);
    await request(client.socket, "join", "burst");
    const answers = await Promise.all(
      Array.from({ length: CHAT_RATE + 10 }, (_, i) => request<{ ok: boolean; error?: string }>(client.socket, "chat", { room: "burst", text: `${i}` })),
    );
    // The bucket refills while the burst is sent: at least CHAT_RATE pass, and the refusals say why.
    const refused = answers.filter((answer) => !answer.ok);
    assert.ok(answers.filter((answer) => answer.ok).length >= CHAT_RATE);
    assert.ok(refused.length >= 5, `only ${refused.length} of ${CHAT_RATE + 10} refused`);
    assert.ok(refused.every((answer) => answer.error === TOO_MANY_MESSAGES));
    assert.ok(client.socket.connected);
  });

  it("members carry the display name from auth.name and nothing else of the handshake", async () => {
    const { io } = await import("socket.io-client");
    const socket = io(gateway.url, { transports: ["websocket"], auth: { name: "Ada", password: "secret" }, forceNew: true, reconnection: false });
    try {
      await new Promise<void>((resolve, reject) => {
        socket.once("hello", () => resolve());
        socket.once("connect_error", reject);
      });
      assert.equal(((await socket.timeout(10_000).emitWithAck("join", "named")) as { ok: boolean }).ok, true);
      const response = await httpRequest(gateway.port, "GET", "/presence/named", {
        headers: { Authorization: `Bearer ${TOKEN}` },
        localAddress: loopbackAddress(801),
      });
      assert.deepEqual(JSON.parse(response.body.toString()), {
        ok: true,
        namespace: "/",
        room: "named",
        count: 1,
        members: [{ id: socket.id, info: { name: "Ada" } }],
      });
    } finally {
      socket.disconnect();
    }
  });

  it("GET /presence: 401 without the token, 400 on a bad limit", async () => {
    assert.equal((await httpRequest(gateway.port, "GET", "/presence/named", { localAddress: loopbackAddress(802) })).status, 401);
    const bad = await httpRequest(gateway.port, "GET", "/presence/named?limit=-1", {
      headers: { Authorization: `Bearer ${TOKEN}` },
      localAddress: loopbackAddress(802),
    });
    assert.equal(bad.status, 400);
  });

  it("/favicon.ico is served (a browser asks for it whatever the page says)", async () => {
    const response = await httpRequest(gateway.port, "GET", "/favicon.ico", { localAddress: loopbackAddress(803) });
    assert.equal(response.status, 200);
    assert.match(String(response.headers["content-type"]), /^image\/svg\+xml/);
  });
});
