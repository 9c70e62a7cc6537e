import assert from "node:assert/strict";
import { createServer, connect, type Socket } from "node:net";
import { describe, it } from "node:test";
import { presetPeerName } from "../../gateway/worker/adopt-connection.js";

describe("presetPeerName", () => {
  it("is what the socket reports as its peer (net.Socket reads its cached peer, the kernel is not asked)", async () => {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const accepted = new Promise<Socket>((resolve) => server.once("connection", resolve));
    const client = connect((server.address() as { port: number }).port, "127.0.0.1");
    const socket = await accepted;
    try {
      presetPeerName(socket, { address: "203.0.113.7", family: "IPv4", port: 4242 });
      assert.equal(socket.remoteAddress, "203.0.113.7");
      assert.equal(socket.remoteFamily, "IPv4");
      assert.equal(socket.remotePort, 4242);
    } finally {
      client.destroy();
      socket.destroy();
      server.close();
    }
  });
});
