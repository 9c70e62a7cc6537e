/**
 * `socket.handshake.address` is the client IP the gateway routed by: behind a `--trust-proxy`
 * address the forwarded client (rightmost untrusted X-Forwarded-For entry), otherwise the peer,
 * through the primary and on the worker ports alike.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { connectClient, loopbackAddress, request, whenUpgraded } from "../helpers/clients.js";
import { GatewayProcess } from "../helpers/gateway-process.js";
import { freePortRange } from "../helpers/ports.js";

const ADDRESS_APP = fileURLToPath(new URL("../fixtures/address-app.mjs", import.meta.url));
/** The trusted proxy: connections from it are routed by their forwarded client. */
const PROXY = "127.0.0.1";

/** Connects from `localAddress` with `headers` on every request (polling and the upgrade), and asks for the handshake address. */
async function handshakeAddress(url: string, localAddress: string, headers: Record<string, string> = {}): Promise<string> {
  const client = await connectClient(url, { localAddress, extraHeaders: headers });
  try {
    await whenUpgraded(client.socket);
    return await request<string>(client.socket, "address");
  } finally {
    client.close();
  }
}

describe("socket.handshake.address", () => {
  let gateway: GatewayProcess;
  let base: number;

  before(async () => {
    base = await freePortRange(2);
    gateway = await GatewayProcess.start(["--workers", "2", "--app", ADDRESS_APP, "--trust-proxy", PROXY, "--worker-port-base", String(base)]);
  });
  after(async () => {
    assert.equal((await gateway.stop()).code, 0);
  });

  const urls = (): [string, string][] => [
    ["the primary", gateway.url],
    ["worker port 0", `http://127.0.0.1:${base}`],
    ["worker port 1", `http://127.0.0.1:${base + 1}`],
  ];

  it("from the trusted proxy: the forwarded client", async () => {
    for (const [where, url] of urls()) {
      assert.equal(await handshakeAddress(url, PROXY, { "X-Forwarded-For": "198.51.100.23" }), "198.51.100.23", where);
      // Entries left of the rightmost untrusted one could be forged by the client: not taken.
      assert.equal(await handshakeAddress(url, PROXY, { "X-Forwarded-For": "203.0.113.9, 198.51.100.24" }), "198.51.100.24", where);
      assert.equal(await handshakeAddress(url, PROXY, { "X-Real-IP": "198.51.100.25" }), "198.51.100.25", where);
    }
  });

  it("from any other peer: the peer itself, whatever headers it sends", async () => {
    for (const [where, url] of urls()) {
      const peer = loopbackAddress(300);
      assert.equal(await handshakeAddress(url, peer, { "X-Forwarded-For": "198.51.100.26" }), peer, where);
      assert.equal(await handshakeAddress(url, peer), peer, where);
    }
  });
});
