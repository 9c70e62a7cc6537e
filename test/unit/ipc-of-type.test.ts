import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { asPrimaryMessageOf, ipcMessage, type PrimaryToWorker } from "../../gateway/ipc.js";

describe("asPrimaryMessageOf", () => {
  const ping = ipcMessage<PrimaryToWorker>({ type: "ping", id: 3 });
  const connection = ipcMessage<PrimaryToWorker>({ type: "connection", ip: "127.0.0.1", reportClose: false, id: 1, admin: true });

  it("gives a well-formed message of the type asked for, as a checked copy", () => {
    assert.deepEqual(asPrimaryMessageOf(ping, "ping"), ping);
    assert.notEqual(asPrimaryMessageOf(ping, "ping"), ping);
    assert.equal(asPrimaryMessageOf(connection, "connection")?.admin, true);
  });

  it("gives nothing for another type, someone else's message or a malformed one", () => {
    assert.equal(asPrimaryMessageOf(connection, "ping"), undefined);
    assert.equal(asPrimaryMessageOf({ ...ping, source: "prom-client" }, "ping"), undefined);
    assert.equal(asPrimaryMessageOf({ ...ping, id: "3" }, "ping"), undefined);
    assert.equal(asPrimaryMessageOf(null, "ping"), undefined);
  });
});
