import { mkdtempSync, rmSync } from "node:fs";
import type { IncomingMessage, Server as HttpServer, ServerResponse } from "node:http";
import { createServer, isIP, type Server as NetServer, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Duplex } from "node:stream";
import type { Server } from "socket.io";
import { asPrimaryMessageOf } from "../ipc.js";
import type { Logger } from "../logger.js";
import type { ResolvedOptions } from "../options.js";
import { clientIp, isTrustedProxy, normalizeIp, trustedProxies } from "../client-ip.js";
import { chooseSlot, sessionIdOf } from "../routing.js";
import { slotOfSessionId } from "../session-id.js";
import type { ClientAddresses } from "./client-address.js";
import { FrontDoor } from "./front-door.js";
import { CLIENT_IP_HEADER, PeerProxy, type Forwarded } from "./peer-proxy.js";
import type { PrimaryChannel } from "./primary-channel.js";
import type { PrivateEndpoints } from "./private-endpoints.js";
import { SessionCounter } from "./session-limit.js";

/** What routing reads of a request's headers when no session cookie is configured: nothing. */
const NO_HEADERS: ReadonlyMap<string, string> = new Map();

/**
 * Routing per request, not per TCP connection (routing guarantee 6). The primary routes a
 * connection by its first request; a proxy that pools upstream connections (HAProxy
 * `http-reuse`, Nginx `keepalive`, ALB, Envoy) then sends other clients' requests down the same
 * connection. So every request a worker receives is checked with the primary's own rule
 * (gateway/routing.ts): one that belongs to another slot (its `sid`, or a handshake whose
 * client IP hashes there) is forwarded to that slot's worker over a private Unix socket
 * (peer-proxy.ts); the client sees one answer, as if it had been routed there.
 *
 * Connections on the worker's own port (`--worker-port-base`, chosen by the proxy's own
 * hashing) are checked for sessions only: the proxy, not our hash, picks their worker.
 * Requests forwarded by a peer are served here, never forwarded again (no loops).
 *
 * The same front door refuses handshakes past `--max-conns-per-ip` open sessions (429).
 */
export class RequestRouter {
  /** Each slot's peer socket path, from the primary (null: down, starting or not answering). */
  private peers: readonly (string | null)[] = [];
  /** Sockets accepted on our private Unix socket: requests forwarded by peers. */
  private readonly fromPeers = new WeakSet<Socket>();
  /** Slots whose worker is up but not answering, from the primary: their sessions get 503 here. */
  private hung: ReadonlySet<number> = new Set();
  /** The limits on first requests of connections handed over on accept (front-door.ts). */
  private readonly frontDoor: FrontDoor;
  /** Forwarded requests in flight, per target slot: aborted with a 503 when that peer stops answering. */
  private readonly inFlight = new Map<number, Set<Forwarded>>();
  private readonly proxy = new PeerProxy();
  private readonly sessions: SessionCounter;
  private readonly enginePath: string;
  private readonly directPort: number | undefined;
  private readonly trusted: ReturnType<typeof trustedProxies>;
  private internal: NetServer | undefined;
  private dir: string | undefined;

  constructor(
    private readonly httpServer: HttpServer,
    io: Server,
    private readonly addresses: ClientAddresses,
    private readonly options: ResolvedOptions,
    private readonly slot: number,
    private readonly logger: Logger,
    private readonly privateEndpoints: PrivateEndpoints,
    primary: PrimaryChannel,
  ) {
    this.sessions = new SessionCounter(options.maxConnsPerIp);
    this.sessions.attach(io);
    this.enginePath = io.path();
    this.directPort = options.workerPortBase === undefined ? undefined : options.workerPortBase + slot;
    this.trusted = trustedProxies(options.trustProxy);
    this.frontDoor = FrontDoor.install(httpServer, options, (message) => primary.send(message));
  }

  /**
   * Puts the router in front of every `request` and `upgrade` listener of the HTTP server
   * (Engine.IO's, express', the app's: call it after the app's set-up), listens on the private
   * Unix socket and follows the primary's peer list. Resolves with the socket's path.
   */
  async start(): Promise<string> {
    this.wrap("request", (req, res) => this.onRequest(req, res as ServerResponse));
    this.wrap("upgrade", (req, socket, head) => this.onUpgrade(req, socket as Duplex, head as Buffer));
    process.on("message", (raw: unknown) => {
      const message = asPrimaryMessageOf(raw, "peers");
      if (message) this.setPeers(message.paths, message.hung);
    });
    // A private directory (mode 0700): only this user may connect and so set the client-IP header.
    this.dir = mkdtempSync(join(tmpdir(), "sio-gateway-"));
    const path = join(this.dir, `worker-${this.slot}.sock`);
    process.once("exit", () => this.removeDir());
    this.internal = createServer((socket) => {
      this.fromPeers.add(socket);
      this.httpServer.emit("connection", socket);
    });
    await new Promise<void>((resolve, reject) => {
      this.internal!.once("error", reject);
      this.internal!.listen(path, resolve);
    });
    return path;
  }

  private wrap(event: "request" | "upgrade", front: (req: IncomingMessage, second: unknown, third?: unknown) => boolean): void {
    const listeners = this.httpServer.listeners(event) as ((...args: unknown[]) => void)[];
    this.httpServer.removeAllListeners(event);
    this.httpServer.on(event, (req: IncomingMessage, second: unknown, third?: unknown) => {
      if (front(req, second, third)) return;
      for (const listener of listeners) listener.call(this.httpServer, req, second, third);
    });
  }

  /** New peer list: requests in flight to a peer that left it are answered 503 now instead of hanging. */
  setPeers(paths: readonly (string | null)[], hung: readonly number[] = []): void {
    this.peers = paths;
    this.hung = new Set(hung);
    for (const [slot, forwarded] of this.inFlight) {
      if (paths[slot]) continue;
      for (const request of forwarded) request.abort(`worker ${slot}, which owns this request, is not answering`);
      this.inFlight.delete(slot);
    }
  }

  /**
   * The slot that should serve this request, when it is another worker's: one that answers (its
   * peer path is known), or a hung one that owns the request's session (answered 503 here: the
   * session lives nowhere else). Undefined: serve it here.
   */
  private ownerElsewhere(req: IncomingMessage, ip: string): number | undefined {
    const target = req.url ?? "/";
    const socket = req.socket;
    let slot: number | undefined;
    let bySession = true;
    // Worker-port and admin-listener connections: the proxy or the operator chose this worker; only sessions move.
    // (localPort costs a getsockname per request: read only when there is a worker port.)
    if ((this.directPort !== undefined && socket.localPort === this.directPort) || this.privateEndpoints.isAdmin(req)) {
      slot = slotOfSessionId(sessionIdOf(target) ?? "");
    } else {
      const cookie = this.options.cookie === undefined ? undefined : req.headers.cookie;
      const headers = cookie === undefined ? NO_HEADERS : new Map<string, string>([["cookie", cookie]]);
      const chosen = chooseSlot({ target, headers }, ip, this.options.workers, this.options.cookie);
      slot = chosen.slot;
      bySession = chosen.reason !== "ip";
    }
    if (slot === undefined || slot === this.slot || slot >= this.options.workers) return undefined;
    if (this.peers[slot]) return slot;
    return bySession && this.hung.has(slot) ? slot : undefined;
  }

  private hungText(slot: number): string {
    return `worker ${slot}, which owns this session, is not answering\n`;
  }

  /** Returns true when the request was taken care of here (forwarded or refused). */
  private onRequest(req: IncomingMessage, res: ServerResponse): boolean {
    if (this.fromPeers.has(req.socket)) {
      this.adoptForwardedIp(req);
      return this.refusedOverLimit(req, res);
    }
    this.frontDoor.served(req);
    const ip = this.clientIpOf(req);
    const owner = this.ownerElsewhere(req, ip);
    if (owner === undefined) return this.refusedOverLimit(req, res);
    const path = this.peers[owner];
    if (!path) {
      const body = this.hungText(owner);
      res.writeHead(503, { "Content-Type": "text/plain; charset=utf-8", "Content-Length": Buffer.byteLength(body) }).end(body);
      return true;
    }
    const admin = this.privateEndpoints.isAdmin(req);
    this.track(owner, (done) => this.proxy.forward(req, res, path, ip, admin, done));
    return true;
  }

  private onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): boolean {
    if (this.fromPeers.has(req.socket)) {
      this.adoptForwardedIp(req);
      return this.refusedUpgradeOverLimit(req, socket);
    }
    this.frontDoor.served(req);
    const ip = this.clientIpOf(req);
    const owner = this.ownerElsewhere(req, ip);
    if (owner === undefined) return this.refusedUpgradeOverLimit(req, socket);
    const path = this.peers[owner];
    if (!path) {
      const body = this.hungText(owner);
      socket.end(
        `HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
      );
      return true;
    }
    const admin = this.privateEndpoints.isAdmin(req);
    this.track(owner, (done) => this.proxy.forwardUpgrade(req, socket, head, path, ip, admin, done));
    return true;
  }

  /**
   * The client IP of this request. From a `--trust-proxy` peer it is read from this request's
   * own forwarding headers, and remembered for the socket before Engine.IO sees the request
   * (`handshake.address`): a pooling proxy sends other clients' requests down a connection the
   * primary resolved for its first client. (A proxy sends one request at a time per connection.)
   */
  private clientIpOf(req: IncomingMessage): string {
    if (this.trusted !== undefined) {
      const peer = normalizeIp(req.socket.remoteAddress ?? "");
      if (isTrustedProxy(peer, this.trusted)) {
        const headers = new Map<string, string>();
        for (const name of ["x-forwarded-for", "x-real-ip"]) {
          const value = req.headers[name];
          if (value !== undefined) headers.set(name, Array.isArray(value) ? value.join(", ") : value);
        }
        const ip = clientIp(peer, headers, this.trusted);
        this.addresses.remember(req.socket, ip);
        return ip;
      }
    }
    return this.addresses.of(req);
  }

  private track(slot: number, start: (done: () => void) => Forwarded): void {
    let set = this.inFlight.get(slot);
    if (!set) this.inFlight.set(slot, (set = new Set()));
    const tracked = set;
    const forwarded = start(() => tracked.delete(forwarded));
    tracked.add(forwarded);
    this.logger.trace({ to: slot }, "request forwarded to its owner");
  }

  /**
   * A peer's request carries the client IP in our header (only peers can reach this socket);
   * ClientAddresses reads it per socket, and a pooled peer connection carries one request at
   * a time, so setting it before the request is handled is enough.
   */
  private adoptForwardedIp(req: IncomingMessage): void {
    this.privateEndpoints.adoptForwarded(req);
    const value = req.headers[CLIENT_IP_HEADER];
    if (typeof value === "string" && isIP(value) !== 0) this.addresses.remember(req.socket, value);
  }

  /** True for an Engine.IO handshake (polling or WebSocket) from an IP at its session limit. */
  private overSessionLimit(req: IncomingMessage): boolean {
    if (this.options.maxConnsPerIp === 0) return false;
    const target = req.url ?? "/";
    // Plain string tests, no query parsing: this runs on every request.
    const isHandshake = target.startsWith(`${this.enginePath}/`) && /[?&]EIO=/.test(target) && !/[?&]sid=[^&]/.test(target);
    return isHandshake && this.sessions.isFull(this.addresses.of(req));
  }

  private sessionLimitText(): string {
    return `too many sessions from this address (limit ${this.options.maxConnsPerIp})\n`;
  }

  /** A polling handshake over the session limit gets 429 (the connection stays usable). */
  private refusedOverLimit(req: IncomingMessage, res: ServerResponse): boolean {
    if (!this.overSessionLimit(req)) return false;
    const body = this.sessionLimitText();
    res.writeHead(429, { "Content-Type": "text/plain; charset=utf-8", "Content-Length": Buffer.byteLength(body) }).end(body);
    return true;
  }

  /** A WebSocket handshake over the session limit gets 429 and the socket is closed. */
  private refusedUpgradeOverLimit(req: IncomingMessage, socket: Duplex): boolean {
    if (!this.overSessionLimit(req)) return false;
    const body = this.sessionLimitText();
    socket.end(
      `HTTP/1.1 429 Too Many Requests\r\nConnection: close\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
    );
    return true;
  }

  /** Stops the private listener and forgets its directory (drain). */
  close(): void {
    this.internal?.close();
    this.proxy.close();
    this.removeDir();
  }

  private removeDir(): void {
    if (this.dir) rmSync(this.dir, { recursive: true, force: true });
    this.dir = undefined;
  }
}
