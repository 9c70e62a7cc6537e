import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import { Counter } from "prom-client";
import type { Socket } from "socket.io";

/** Failed logins one client IP may make per window before it is refused without a check. */
export const MAX_FAILURES_PER_IP = 10;
/** The per-IP window, in ms. */
export const FAILURE_WINDOW = 60_000;
/** Failed logins one Engine.IO connection may make: after these it is closed. */
export const MAX_FAILURES_PER_CONNECTION = 3;
/** IPs remembered at most (an attacker with many addresses cannot grow the map without end). */
const MAX_TRACKED_IPS = 10_000;
/** Admin sessions (kept logins) remembered at most, and how long one lasts, in ms. */
const MAX_SESSIONS = 1000;
const SESSION_LIFETIME = 24 * 3600 * 1000;

const refused = new Counter({
  name: "sio_gateway_admin_logins_refused_total",
  help: "Admin UI logins refused, by reason (wrong-credentials, too-many-failures)",
  labelNames: ["reason"],
});

function digest(value: string): Buffer {
  return createHash("sha256").update(value).digest();
}

/**
 * The admin UI's login (`--admin-ui USER:PASSWORD`), in place of @socket.io/admin-ui's own:
 * that one runs a pure-JS bcrypt compare (~100 ms of the worker's event loop) on every CONNECT
 * to /admin, with no limit on attempts, so a login flood (50 wrong passwords a second over one
 * WebSocket) froze the worker for 13–18 s. Here the password is compared as SHA-256 digests in
 * constant time (microseconds: the gateway holds the password itself, so bcrypt's slowness
 * guards nothing a limit does not), failures are limited per client IP and per connection, and
 * a successful login gets a session id the UI sends back when it reconnects (as admin-ui's does).
 */
export class AdminLogin {
  private readonly username: Buffer;
  private readonly password: Buffer;
  private readonly failuresByIp = new Map<string, { count: number; since: number }>();
  private readonly failuresByConnection = new WeakMap<object, number>();
  private readonly sessions = new Map<string, number>();

  constructor(
    credentials: string,
    private readonly now: () => number = Date.now,
  ) {
    const colon = credentials.indexOf(":");
    this.username = digest(credentials.slice(0, colon));
    this.password = digest(credentials.slice(colon + 1));
  }

  /** The /admin namespace middleware. */
  readonly middleware = (socket: Socket, next: (error?: Error) => void): void => {
    const auth = socket.handshake.auth as { sessionId?: unknown; username?: unknown; password?: unknown };
    if (typeof auth.sessionId === "string" && this.hasSession(auth.sessionId)) return next();
    const ip = socket.handshake.address;
    if (this.ipBlocked(ip)) {
      refused.inc({ reason: "too-many-failures" });
      return this.fail(socket, next, "too many failed logins from this address: retry later");
    }
    if (this.matches(auth.username, auth.password)) {
      this.failuresByIp.delete(ip);
      const sessionId = this.newSession();
      socket.emit("session", sessionId);
      return next();
    }
    refused.inc({ reason: "wrong-credentials" });
    this.countFailure(ip, socket.conn);
    this.fail(socket, next, "invalid credentials");
  };

  private matches(username: unknown, password: unknown): boolean {
    if (typeof username !== "string" || typeof password !== "string") return false;
    // Both compared, always: the time says nothing about which one was wrong.
    const userOk = timingSafeEqual(digest(username), this.username);
    const passwordOk = timingSafeEqual(digest(password), this.password);
    return userOk && passwordOk;
  }

  private ipBlocked(ip: string): boolean {
    const entry = this.failuresByIp.get(ip);
    if (!entry) return false;
    if (this.now() - entry.since > FAILURE_WINDOW) {
      this.failuresByIp.delete(ip);
      return false;
    }
    return entry.count >= MAX_FAILURES_PER_IP;
  }

  private countFailure(ip: string, connection: object): void {
    const entry = this.failuresByIp.get(ip);
    if (entry) entry.count++;
    else {
      if (this.failuresByIp.size >= MAX_TRACKED_IPS) this.failuresByIp.delete(this.failuresByIp.keys().next().value!);
      this.failuresByIp.set(ip, { count: 1, since: this.now() });
    }
    this.failuresByConnection.set(connection, (this.failuresByConnection.get(connection) ?? 0) + 1);
  }

  /** Refuses the CONNECT; a connection past its failures is closed once the refusal is sent (Socket.IO sends it on the next tick). */
  private fail(socket: Socket, next: (error?: Error) => void, message: string): void {
    next(new Error(message));
    if ((this.failuresByConnection.get(socket.conn) ?? 0) >= MAX_FAILURES_PER_CONNECTION || this.ipBlocked(socket.handshake.address)) {
      setImmediate(() => socket.conn.close());
    }
  }

  private newSession(): string {
    if (this.sessions.size >= MAX_SESSIONS) this.sessions.delete(this.sessions.keys().next().value!);
    const id = randomBytes(16).toString("hex");
    this.sessions.set(id, this.now() + SESSION_LIFETIME);
    return id;
  }

  private hasSession(id: string): boolean {
    const expires = this.sessions.get(id);
    if (expires === undefined) return false;
    if (expires < this.now()) {
      this.sessions.delete(id);
      return false;
    }
    return true;
  }
}
