import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Socket } from "socket.io";
import { AdminLogin, FAILURE_WINDOW, MAX_FAILURES_PER_CONNECTION, MAX_FAILURES_PER_IP } from "../../gateway/worker/admin-login.js";

interface FakeSocket {
  handshake: { auth: Record<string, unknown>; address: string };
  conn: { closed: boolean; close(): void };
  emitted: [string, unknown][];
  emit(event: string, value: unknown): void;
}

function fakeSocket(auth: Record<string, unknown>, address = "10.0.0.1", conn = { closed: false, close() {} }): FakeSocket {
  conn.close = () => (conn.closed = true);
  const socket: FakeSocket = { handshake: { auth, address }, conn, emitted: [], emit: (event, value) => socket.emitted.push([event, value]) };
  return socket;
}

/** Runs the middleware; resolves with the error message, or "ok". */
function attempt(login: AdminLogin, socket: FakeSocket): string {
  let outcome = "no answer";
  login.middleware(socket as unknown as Socket, (error) => (outcome = error ? error.message : "ok"));
  return outcome;
}

const nextTick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe("AdminLogin", () => {
  it("accepts the right credentials, emits a session id, and accepts that id later", () => {
    const login = new AdminLogin("admin:correct-horse");
    const socket = fakeSocket({ username: "admin", password: "correct-horse" });
    assert.equal(attempt(login, socket), "ok");
    const [[event, sessionId]] = socket.emitted;
    assert.equal(event, "session");
    assert.equal(attempt(login, fakeSocket({ sessionId }, "10.9.9.9")), "ok");
    assert.equal(attempt(login, fakeSocket({ sessionId: "made-up" }, "10.9.9.9")), "invalid credentials");
  });

  it("refuses wrong or missing credentials", () => {
    const login = new AdminLogin("admin:correct-horse");
    assert.equal(attempt(login, fakeSocket({ username: "admin", password: "wrong" })), "invalid credentials");
    assert.equal(attempt(login, fakeSocket({ username: "root", password: "correct-horse" }, "10.0.0.2")), "invalid credentials");
    assert.equal(attempt(login, fakeSocket({}, "10.0.0.3")), "invalid credentials");
  });

  it("refuses an IP without checking after its failures in the window, the right password too, until the window passes", () => {
    let now = 1_000_000;
    const login = new AdminLogin("admin:correct-horse", () => now);
    for (let i = 0; i < MAX_FAILURES_PER_IP; i++) assert.equal(attempt(login, fakeSocket({ username: "admin", password: `wrong${i}` })), "invalid credentials");
    assert.match(attempt(login, fakeSocket({ username: "admin", password: "correct-horse" })), /too many failed logins/);
    assert.equal(attempt(login, fakeSocket({ username: "admin", password: "correct-horse" }, "10.0.0.2")), "ok", "another address is not affected");
    now += FAILURE_WINDOW + 1;
    assert.equal(attempt(login, fakeSocket({ username: "admin", password: "correct-horse" })), "ok");
  });

  it("closes a connection after its failures", async () => {
    const login = new AdminLogin("admin:correct-horse");
    const conn = { closed: false, close() {} };
    for (let i = 0; i < MAX_FAILURES_PER_CONNECTION - 1; i++) attempt(login, fakeSocket({ username: "admin", password: "wrong" }, "10.0.0.1", conn));
    await nextTick();
    assert.equal(conn.closed, false);
    attempt(login, fakeSocket({ username: "admin", password: "wrong" }, "10.0.0.1", conn));
    await nextTick();
    assert.equal(conn.closed, true);
  });
});
