import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { asPrimaryMessage, asWorkerMessage, IPC_SOURCE, ipcMessage } from "../../gateway/ipc.js";

const source = IPC_SOURCE;

/** Passes `message` with an extra field through `guard`: it must come back as a fresh object equal to `message`. */
function assertPasses(guard: (message: unknown) => unknown, message: Record<string, unknown>): void {
  const sent = { ...message, extra: "dropped" };
  const received = guard(sent);
  assert.deepEqual(received, message);
  assert.notEqual(received, sent);
}

describe("ipcMessage", () => {
  it("tags the payload with the source", () => {
    assert.deepEqual(ipcMessage({ type: "ready" }), { source: "sio-gateway", type: "ready" });
    assert.deepEqual(ipcMessage({ type: "metrics-request", id: 7 }), { source: "sio-gateway", type: "metrics-request", id: 7 });
  });
});

describe("asWorkerMessage", () => {
  it("passes each well-formed message as a fresh object with only the checked fields", () => {
    assertPasses(asWorkerMessage, { source, type: "configure-request" });
    assertPasses(asWorkerMessage, { source, type: "start-failed", configuration: true, message: "app module has no default export" });
    assertPasses(asWorkerMessage, { source, type: "ready" });
    assertPasses(asWorkerMessage, { source, type: "connection-closed", ip: "10.0.0.1" });
    assertPasses(asWorkerMessage, { source, type: "metrics-request", id: 3 });
    assertPasses(asWorkerMessage, { source, type: "internal-address", path: "/tmp/sio-gateway-x/worker-0.sock" });
    assertPasses(asWorkerMessage, { source, type: "pong", id: 5 });
    assertPasses(asWorkerMessage, { source, type: "front-door", rejected: { "header-timeout": 2, "pending-heads": 1 }, untrustedForwarded: 0 });
  });

  it("rejects other sources, non-objects and unknown types", () => {
    for (const message of [
      { source: "prom-client", type: "ready" },
      { type: "ready" },
      null,
      undefined,
      "ready",
      42,
      [source, "ready"],
      { source, type: "drain" },
      { source, type: "nope" },
    ]) {
      assert.equal(asWorkerMessage(message), undefined, JSON.stringify(message));
    }
  });

  it("rejects wrong field types", () => {
    assert.equal(asWorkerMessage({ source, type: "start-failed", configuration: "yes", message: "x" }), undefined);
    assert.equal(asWorkerMessage({ source, type: "start-failed", configuration: false }), undefined);
    assert.equal(asWorkerMessage({ source, type: "connection-closed" }), undefined);
    assert.equal(asWorkerMessage({ source, type: "connection-closed", ip: 1 }), undefined);
    assert.equal(asWorkerMessage({ source, type: "metrics-request", id: "1" }), undefined);
    assert.equal(asWorkerMessage({ source, type: "metrics-request", id: 1.5 }), undefined);
    assert.equal(asWorkerMessage({ source, type: "metrics-request", id: Number.NaN }), undefined);
    assert.equal(asWorkerMessage({ source, type: "metrics-request" }), undefined);
    assert.equal(asWorkerMessage({ source, type: "internal-address", path: 1 }), undefined);
    assert.equal(asWorkerMessage({ source, type: "connection-ack", id: 4 }), undefined, "no longer sent: Node's NODE_HANDLE_ACK says it");
    assert.equal(asWorkerMessage({ source, type: "pong" }), undefined);
    // Front-door reasons become a metric label: only short lower-case names, whole counts.
    assert.equal(asWorkerMessage({ source, type: "front-door", rejected: { 'x"}\n': 1 }, untrustedForwarded: 0 }), undefined);
    assert.equal(asWorkerMessage({ source, type: "front-door", rejected: { "header-size": -1 }, untrustedForwarded: 0 }), undefined);
    assert.equal(asWorkerMessage({ source, type: "front-door", rejected: [], untrustedForwarded: 0 }), undefined);
    assert.equal(asWorkerMessage({ source, type: "front-door", rejected: {}, untrustedForwarded: 0.5 }), undefined);
  });
});

describe("asPrimaryMessage", () => {
  it("passes each well-formed message as a fresh object with only the checked fields", () => {
    assertPasses(asPrimaryMessage, { source, type: "configure", options: { port: 3000 }, slot: 0 });
    assertPasses(asPrimaryMessage, { source, type: "connection", bytes: new Uint8Array([1, 2, 3]), ip: "10.0.0.1", reportClose: false, id: 1, admin: false });
    assertPasses(asPrimaryMessage, { source, type: "connection", bytes: Buffer.from("GET /"), ip: "::1", reportClose: true, id: 2, admin: true });
    assertPasses(asPrimaryMessage, { source, type: "peers", paths: ["/tmp/sio-gateway-x/worker-0.sock", null], hung: [1] });
    // Handed over on accept: nothing read, no bytes.
    assertPasses(asPrimaryMessage, { source, type: "connection", ip: "10.0.0.1", reportClose: false, id: 3, admin: false });
    const peer = { address: "::ffff:10.0.0.1", family: "IPv6", port: 50000 };
    assertPasses(asPrimaryMessage, { source, type: "connection", ip: "10.0.0.1", peer, reportClose: false, id: 3, admin: false });
    assertPasses(asPrimaryMessage, { source, type: "ping", id: 7 });
    assertPasses(asPrimaryMessage, { source, type: "drain" });
    assertPasses(asPrimaryMessage, { source, type: "metrics-response", id: 1 });
    assertPasses(asPrimaryMessage, { source, type: "metrics-response", id: 2, text: "# HELP x\n" });
    assertPasses(asPrimaryMessage, { source, type: "metrics-response", id: 3, error: "timed out" });
  });

  it("drops optional fields that are present but undefined", () => {
    const received = asPrimaryMessage({ source, type: "metrics-response", id: 1, text: undefined, error: undefined });
    assert.deepEqual(received, { source, type: "metrics-response", id: 1 });
    assert.deepEqual(Object.keys(received), ["source", "type", "id"]);
  });

  it("rejects other sources, non-objects and unknown types", () => {
    for (const message of [{ source: "cluster-adapter", type: "drain" }, { type: "drain" }, null, undefined, "drain", 0, { source, type: "ready" }]) {
      assert.equal(asPrimaryMessage(message), undefined, JSON.stringify(message));
    }
  });

  it("rejects wrong field types", () => {
    const rejected: Record<string, unknown>[] = [
      { source, type: "configure", options: [], slot: 0 },
      { source, type: "configure", options: null, slot: 0 },
      { source, type: "configure", options: "port=3000", slot: 0 },
      { source, type: "configure", options: {}, slot: -1 },
      { source, type: "configure", options: {}, slot: 0.5 },
      { source, type: "configure", options: {}, slot: "0" },
      { source, type: "configure", options: {} },
      { source, type: "connection", bytes: "GET /", ip: "10.0.0.1", reportClose: false },
      { source, type: "connection", bytes: [71, 69, 84], ip: "10.0.0.1", reportClose: false },
      { source, type: "connection", bytes: { type: "Buffer", data: [71] }, ip: "10.0.0.1", reportClose: false },
      { source, type: "connection", bytes: new Uint8Array(1), ip: 167772161, reportClose: false },
      { source, type: "connection", bytes: new Uint8Array(1), reportClose: false },
      { source, type: "connection", bytes: new Uint8Array(1), ip: "10.0.0.1", reportClose: "true" },
      { source, type: "connection", bytes: new Uint8Array(1), ip: "10.0.0.1" },
      { source, type: "connection", bytes: new Uint8Array(1), ip: "10.0.0.1", reportClose: true },
      { source, type: "peers", paths: "/tmp/x.sock" },
      { source, type: "peers", paths: [1] },
      { source, type: "peers", paths: [null] },
      { source, type: "connection", ip: "10.0.0.1", peer: { address: "10.0.0.1", family: "IPv4", port: 70000 }, reportClose: false, id: 1, admin: false },
      { source, type: "connection", ip: "10.0.0.1", peer: "10.0.0.1", reportClose: false, id: 1, admin: false },
      { source, type: "peers", paths: [null], hung: [-1] },
      { source, type: "ping" },
      { source, type: "metrics-response", id: "1" },
      { source, type: "metrics-response", id: 1, text: 5 },
      { source, type: "metrics-response", id: 1, error: new Error("x") },
    ];
    for (const message of rejected) assert.equal(asPrimaryMessage(message), undefined, `${message.type as string}: ${JSON.stringify(message)}`);
  });
});
