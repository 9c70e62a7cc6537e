/**
 * `POST /emit` answers 400 for data it cannot serialize or deliver (202 means published):
 * data nested 20,000 levels deep was accepted with 202 and reached nobody.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { connectClient, loopbackAddress } from "../helpers/clients.js";
import { httpRequest } from "../helpers/engine-raw.js";
import { ECHO_APP } from "../helpers/fixtures.js";
import { GatewayProcess } from "../helpers/gateway-process.js";
import { waitFor } from "../helpers/wait.js";

const TOKEN = "emit-limits-token";

function emit(port: number, body: string): ReturnType<typeof httpRequest> {
  return httpRequest(port, "POST", "/emit", {
    body,
    headers: { Authorization: `Bearer ${TOKEN}`, "Content-Type": "application/json" },
    localAddress: loopbackAddress(130),
  });
}

describe("POST /emit limits", () => {
  it("6. data nested 20,000 levels deep gets 400 naming the limit; the next emit is delivered", async () => {
    const gateway = await GatewayProcess.start(["--workers", "1", "--app", ECHO_APP, "--emit-token", TOKEN]);
    const client = await connectClient(gateway.url, { localAddress: loopbackAddress(131) });
    try {
      const deep = await emit(gateway.port, `{"event":"news","data":${"[".repeat(20_000)}1${"]".repeat(20_000)}}`);
      assert.equal(deep.status, 400, deep.body.toString());
      assert.deepEqual(JSON.parse(deep.body.toString()), { ok: false, error: '"data" nested deeper than 32 levels: it cannot be delivered' });

      const delivered = waitFor<[unknown]>(client.socket, "news");
      const fine = await emit(gateway.port, JSON.stringify({ event: "news", data: { text: "still here" } }));
      assert.equal(fine.status, 202, fine.body.toString());
      assert.deepEqual((await delivered)[0], { text: "still here" });
      assert.doesNotMatch(gateway.stderr, /unhandled rejection/);
    } finally {
      client.close();
      assert.equal((await gateway.stop()).code, 0);
    }
  });
});
