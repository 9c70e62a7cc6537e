import cluster, { type Worker } from "node:cluster";
import type { Server as HttpServer } from "node:http";
import { createServer, type Server, type Socket } from "node:net";
import { fileURLToPath } from "node:url";
import type { BlockList } from "node:net";
import { setupClusterAdapterPrimary } from "../../adapter/index.js";
import { GatewayError } from "../../common/errors.js";
import { readRequestHead } from "./head-reader.js";
import { PendingHandoffs } from "./handoffs.js";
import { Heartbeat } from "./heartbeat.js";
import { ConnectionCounter, PRIMARY_HOLDER } from "./ip-limit.js";
import { asWorkerMessage, ipcMessage, type PeerName, type PrimaryToWorker } from "../ipc.js";
import { Lifecycle } from "../lifecycle.js";
import type { Logger } from "../logger.js";
import { PrimaryMetrics } from "./metrics.js";
import type { ResolvedOptions } from "../options.js";
import { refuseConnection } from "./responses.js";
import { startPresenceRelay } from "./presence-relay.js";
import { clientIp, isTrustedProxy, normalizeIp, trustedProxies } from "../client-ip.js";
import { chooseSlot, slotForIp, type RouteReason } from "../routing.js";
import { RecoveryRelay } from "./recovery-relay.js";
import { WorkerPool } from "./worker-pool.js";
import { workerExecArgv } from "./worker-flags.js";

/** How long a connection waits for its slot's worker to be (re)started before another worker takes it, in ms. */
const HANDOFF_WAIT = 5000;
/** At most one "a worker could not take a connection" warning per this many ms. */
const NOT_RECEIVED_WARNING_INTERVAL = 10_000;

/**
 * The primary: owns the public port, picks a worker slot for each connection and hands the
 * socket itself to that worker. After the hand-off no byte of that connection passes the primary.
 *
 * A direct client (its address is not `--trust-proxy`) is handed over on accept, before any
 * byte is read: its slot is its IP's hash, and what the head would add is done by the worker
 * on every request anyway (worker/request-router.ts forwards a request naming another slot's
 * session there; worker/front-door.ts applies the head limits). Reading the head in the primary
 * is kept where the head decides the route: a trusted proxy's connection (the client IP is in
 * its headers) and the session cookie (`--cookie`). Then it reads the first request's head and
 * picks the session's slot, else the client IP's hash.
 *
 * Written here rather than taken from @socket.io/sticky, which has no IP hashing, proxies
 * every long-polling POST through the primary and turns the bytes it read into strings.
 */
export class Primary {
  readonly lifecycle: Lifecycle;
  readonly pool: WorkerPool;
  private readonly metrics: PrimaryMetrics;
  private readonly trusted: BlockList | undefined;
  private readonly connections: ConnectionCounter;
  private readonly handoffs: PendingHandoffs;
  private readonly heartbeat: Heartbeat;
  /** Direct clients are handed over on accept (no head read); false with a session cookie, which routes by a header. */
  private readonly handOverOnAccept: boolean;
  /** Connections still reading their request head (capped by --max-pending-heads). */
  private pendingHeads = 0;
  /** When a worker last failed to take a socket was logged (Date.now(); then at most every 10 s). */
  private notReceivedWarnedAt = 0;
  /** Whether the untrusted forwarding-header warning was logged (once; then only counted). */
  private warnedUntrustedForward = false;
  private server: Server | undefined;
  /** `--admin-port`: the private endpoints' listener; its connections are handed over marked `admin`. */
  private adminServer: Server | undefined;
  private metricsServer: HttpServer | undefined;
  private closing: Promise<void> | undefined;

  constructor(
    private readonly options: ResolvedOptions,
    private readonly logger: Logger,
  ) {
    this.lifecycle = new Lifecycle(logger);
    this.pool = new WorkerPool(options, logger);
    this.metrics = new PrimaryMetrics(this.pool, () => this.handoffs.pendingCount);
    this.trusted = trustedProxies(options.trustProxy);
    this.connections = new ConnectionCounter(options.maxConnsPerIp);
    this.heartbeat = new Heartbeat(this.pool, logger);
    this.handoffs = new PendingHandoffs((workerId) => this.heartbeat.isSilent(workerId));
    this.handOverOnAccept = options.cookie === undefined;
  }

  /** Listens, starts the workers and resolves with the public port once every worker is ready. */
  async start(): Promise<number> {
    // "advanced" serialization sends the bytes already read as a Buffer, not as a string.
    cluster.setupPrimary({
      exec: fileURLToPath(new URL("../worker/main.js", import.meta.url)),
      serialization: "advanced",
      execArgv: workerExecArgv(process.execArgv, process.env.NODE_OPTIONS),
    });
    // Single-machine mode: the workers' rooms and broadcasts go through the primary, by the cluster
    // adapter, or with connection-state recovery by the recovery relay (whichever the app's workers use).
    const recovery = this.options.redis ? undefined : new RecoveryRelay(this.logger);
    if (!this.options.redis) setupClusterAdapterPrimary();
    if (!this.options.redis) startPresenceRelay(this.pool, this.logger);
    cluster.on("message", (worker, message) => recovery?.handle(worker, message) || this.onWorkerMessage(worker, message));
    // Node's own acknowledgement of each handle a worker received tells the primary to close its copy (handoffs.ts).
    cluster.on("fork", (worker) => this.followHandleAcks(worker));
    this.pool.on("exit", (record) => {
      this.connections.releaseWorker(record.worker.id);
      this.handoffs.workerGone(record.worker.id);
    });
    // Every change of who serves a slot reaches every worker: they forward misrouted requests by it.
    for (const event of ["ready", "exit", "responsiveness"] as const) this.pool.on(event, () => this.sendPeers());

    const server = createServer({ pauseOnConnect: true, noDelay: true }, (socket) => void this.onConnection(socket, false));
    this.server = server;
    const port = await listen(server, this.options.host, this.options.port);
    if (this.options.adminPort !== undefined) {
      this.adminServer = createServer({ pauseOnConnect: true, noDelay: true }, (socket) => void this.onConnection(socket, true));
      await listen(this.adminServer, this.options.adminHost, this.options.adminPort);
    }
    if (typeof this.options.metrics === "number") {
      this.metricsServer = await this.metrics.listen(this.options.host, this.options.metrics).catch((error: NodeJS.ErrnoException) => {
        throw new GatewayError("ERR_LISTEN", `cannot listen on ${this.options.host}:${this.options.metrics} (--metrics): ${error.code ?? error.message}`);
      });
    }
    this.pool.start();
    this.heartbeat.start();
    await this.allWorkersReady();
    this.lifecycle.setState("ready");
    return port;
  }

  private allWorkersReady(): Promise<void> {
    return new Promise((resolve, reject) => {
      const check = (): void => {
        if (this.pool.readyCount() < this.options.workers) return;
        this.pool.off("ready", check);
        clearTimeout(timer);
        this.pool.markStarted();
        resolve();
      };
      this.pool.on("ready", check);
      // --start-timeout: a gateway that cannot start says why and exits, instead of waiting forever (Redis down, an app stuck in its set-up).
      const timer = setTimeout(() => {
        this.pool.off("ready", check);
        const error = new GatewayError(
          "ERR_START_TIMEOUT",
          `${this.pool.startTimeoutReport(this.options.workers)} within --start-timeout ${this.options.startTimeout} ms`,
        );
        this.logger.error({ reason: error.message }, "start timed out: stopping");
        void this.close().then(() => reject(error));
      }, this.options.startTimeout);
      this.pool.once("fatal", (slot, failure) => {
        clearTimeout(timer);
        this.pool.off("ready", check);
        this.logger.error({ slot, reason: failure.message }, "a worker could not start: stopping");
        const error = failure.configuration
          ? new GatewayError("ERR_WORKER_START", failure.message)
          : new GatewayError("ERR_APP_SETUP", `the app's set-up failed in worker ${slot}: ${failure.message}`);
        void this.close().then(() => reject(error));
      });
    });
  }

  private onWorkerMessage(worker: Worker, raw: unknown): void {
    // Any message (ours, the cluster adapter's, prom-client's) shows the worker's event loop runs.
    const record = this.pool.recordOf(worker);
    if (record) this.heartbeat.answered(record);
    if (this.metrics.cluster.onMessage(worker, raw)) return;
    const message = asWorkerMessage(raw);
    if (!message) return;
    switch (message.type) {
      case "internal-address":
        this.pool.setInternalPath(worker, message.path);
        break;
      case "front-door":
        this.onFrontDoorReport(message.rejected, message.untrustedForwarded);
        break;
      case "pong":
        break;
      case "configure-request":
        this.pool.configure(worker);
        break;
      case "start-waiting":
        this.pool.startWaiting(worker, message.reason);
        break;
      case "start-failed":
        this.pool.startFailed(worker, { configuration: message.configuration, message: message.message });
        break;
      case "ready":
        this.pool.markReady(worker);
        break;
      case "connection-closed":
        this.connections.release(worker.id, message.ip);
        break;
      case "metrics-request":
        this.metrics.text().then(
          (text) => sendTo(worker, ipcMessage<PrimaryToWorker>({ type: "metrics-response", id: message.id, text })),
          (error: Error) => sendTo(worker, ipcMessage<PrimaryToWorker>({ type: "metrics-response", id: message.id, error: error.message })),
        );
        break;
    }
  }

  /**
   * Node's NODE_HANDLE_ACK / NODE_HANDLE_NACK from a worker (it got the handle written last, or
   * its recvmsg lost it). Undocumented: the `internalMessage` event of the worker's ChildProcess,
   * which the cluster module itself listens on; test/integration/storm.test.ts fails if the
   * primary stops hearing them (its copies of handed-over sockets would stay open).
   */
  private followHandleAcks(worker: Worker): void {
    (worker.process as unknown as NodeJS.EventEmitter).on("internalMessage", (message: unknown) => {
      const cmd = (message as { cmd?: unknown } | null)?.cmd;
      if (cmd === "NODE_HANDLE_ACK") this.handoffs.nodeAcknowledged(worker.id);
      else if (cmd === "NODE_HANDLE_NACK") this.handoffs.nodeRefused(worker.id);
    });
  }

  private async onConnection(socket: Socket, admin: boolean): Promise<void> {
    // Until the hand-off the primary owns the socket: a reset must not become an uncaught error.
    socket.on("error", (error) => this.logger.debug({ err: error.message }, "client socket error before hand-off"));
    const peer = normalizeIp(socket.remoteAddress ?? "");
    const peerIsProxy = isTrustedProxy(peer, this.trusted);
    // A connection counts against its IP from accept, refused ones too while they are open, so
    // connections opened together cannot all pass the check. A proxy's own address is not
    // limited: its clients are, once the head names them.
    const hold = new ConnectionHold(this.connections, socket, this.options.maxConnsPerIp > 0);
    if (!peerIsProxy) {
      const full = this.connections.isFull(peer);
      hold.count(peer);
      if (full) return this.refuse(socket, 429, "too many connections from this address", "ip-limit");
    }
    if (!peerIsProxy && this.handOverOnAccept) {
      // Nothing read: the worker gets the connection as the client opened it (its front door reads the head).
      return this.handOff(socket, undefined, peer, slotForIp(peer, this.options.workers), "ip", hold, admin);
    }
    if (this.pendingHeads >= this.options.maxPendingHeads) {
      return this.refuse(socket, 503, "too many connections waiting to send their request", "pending-heads");
    }

    this.pendingHeads++;
    this.metrics.pendingHeads.inc();
    const result = await readRequestHead(socket, this.options).finally(() => {
      this.pendingHeads--;
      this.metrics.pendingHeads.dec();
    });
    switch (result.kind) {
      case "closed":
        return;
      case "timeout":
        this.logger.debug({ peer, port: socket.remotePort, receivedBytes: result.bytes.length }, "header timeout");
        return this.refuse(socket, 408, `no complete request head within ${this.options.headerTimeout} ms`, "header-timeout");
      case "too-large":
        return this.refuse(socket, 431, `request head larger than ${this.options.maxHeaderSize} bytes`, "header-size");
      case "invalid":
        return this.refuse(socket, 400, result.reason, "bad-request");
    }
    if (!peerIsProxy) this.noticeUntrustedForwarding(peer, result.head.headers);
    const ip = clientIp(peer, result.head.headers, this.trusted);
    if (peerIsProxy) {
      const full = this.connections.isFull(ip);
      hold.count(ip);
      if (full) return this.refuse(socket, 429, "too many connections from this address", "ip-limit");
    }
    const { slot, reason } = chooseSlot(result.head, ip, this.options.workers, this.options.cookie);
    await this.handOff(socket, result.bytes, ip, slot, reason, hold, admin);
  }

  /**
   * Forwarding headers from a peer that is not `--trust-proxy`: ignored for routing (a client
   * could pick its worker with them), but most likely a proxy the operator forgot to trust,
   * which puts every client on one worker. Logged once, then counted.
   */
  private noticeUntrustedForwarding(peer: string, headers: ReadonlyMap<string, string>): void {
    if (!headers.has("x-forwarded-for") && !headers.has("x-real-ip") && !headers.has("forwarded")) return;
    this.countUntrustedForwarding(1, peer);
  }

  /** A worker's front door (worker/front-door.ts) refused connections or saw forwarding headers from untrusted peers: counted as the primary's own. */
  private onFrontDoorReport(rejected: Record<string, number>, untrustedForwarded: number): void {
    for (const [reason, count] of Object.entries(rejected)) this.metrics.rejected.inc({ reason }, count);
    if (untrustedForwarded > 0) this.countUntrustedForwarding(untrustedForwarded, undefined);
  }

  private countUntrustedForwarding(count: number, peer: string | undefined): void {
    this.metrics.untrustedForwarded.inc(count);
    if (this.warnedUntrustedForward) return;
    this.warnedUntrustedForward = true;
    this.logger.warn(
      peer === undefined ? {} : { peer },
      "forwarding headers (X-Forwarded-For, X-Real-IP, Forwarded) from an address not in --trust-proxy are ignored: if it is your proxy, add it to --trust-proxy (further ones are counted in sio_gateway_primary_untrusted_forwarded_total)",
    );
  }

  /** `bytes` undefined: handed over on accept, nothing read. */
  private async handOff(
    socket: Socket,
    bytes: Buffer | undefined,
    ip: string,
    slot: number,
    reason: RouteReason,
    hold: ConnectionHold,
    admin: boolean,
  ): Promise<void> {
    let target: { slot: number; worker: Worker | undefined };
    if (this.pool.isUnresponsive(slot)) {
      // Its sessions live nowhere else: say so at once. New sessions go to another worker.
      if (reason !== "ip") return this.refuse(socket, 503, `worker ${slot}, which owns this session, is not answering`, "worker-unresponsive");
      target = { slot, worker: undefined };
    } else {
      target = { slot, worker: this.pool.readyWorker(slot) ?? (await this.pool.whenReady(slot, HANDOFF_WAIT)) };
    }
    if (!target.worker) {
      // The slot's worker stayed down (crash loop) or does not answer: serving elsewhere beats refusing.
      const fallback = this.pool.anyReadyWorker(slot);
      if (!fallback) return this.refuse(socket, 503, "no worker available", "no-worker");
      target = fallback;
    }
    if (socket.destroyed) return;
    const worker = target.worker!;
    hold.handTo(worker.id);
    this.metrics.handoffs[reason]++;
    // The primary keeps its copy of the socket until the worker has it (handoffs.ts).
    const id = this.handoffs.add(socket, worker.id, (why) => {
      if (why === "not-received") {
        hold.handBack();
        this.warnNotReceived(target.slot);
        return this.refuse(socket, 503, `worker ${target.slot} could not take the connection`, "worker-not-received");
      }
      const record = this.pool.recordOf(worker);
      if (record) this.pool.setResponsive(record, false);
      this.refuse(socket, 503, `worker ${target.slot} did not take the connection (not answering)`, "worker-unresponsive");
    });
    const message = ipcMessage<PrimaryToWorker>({
      type: "connection",
      ...(bytes === undefined ? {} : { bytes }),
      ip,
      ...peerNameOf(socket),
      reportClose: hold.counted,
      id,
      admin,
    });
    this.logger.trace({ slot: target.slot, route: reason, ip }, "hand-off");
    worker.send(message, socket, { keepOpen: true }, (error: Error | null) => {
      if (!error) return this.handoffs.written(id, worker.id);
      this.logger.debug({ slot: target.slot, err: error.message }, "hand-off failed");
      this.handoffs.cancel(id, worker.id);
      hold.handBack();
      socket.destroy();
    });
  }

  /** Tells every live worker who serves each slot now (the peers they forward misrouted requests to). */
  private sendPeers(): void {
    const message = ipcMessage<PrimaryToWorker>({ type: "peers", paths: this.pool.peerPaths(), hung: this.pool.hungSlots() });
    for (const record of this.pool.liveRecords()) sendTo(record.worker, message);
  }

  /**
   * A worker that cannot take a socket (Node's NODE_HANDLE_NACK: its recvmsg dropped the descriptor) is
   * nearly always at its open-file limit: the clients get 503, and the operator needs the cause, not
   * only a count. Once per 10 s at most, however many follow (each is counted).
   */
  private warnNotReceived(slot: number): void {
    const now = Date.now();
    if (now - this.notReceivedWarnedAt < NOT_RECEIVED_WARNING_INTERVAL) return;
    this.notReceivedWarnedAt = now;
    this.logger.warn(
      { slot },
      'a worker could not take a connection (answered 503): usually its open-file limit (ulimit -n; see `sio-gateway doctor`); further ones are counted in sio_gateway_primary_rejected_total{reason="worker-not-received"}',
    );
  }

  private refuse(socket: Socket, status: 400 | 408 | 429 | 431 | 503, detail: string, reason: string): void {
    if (socket.destroyed) return;
    this.metrics.rejected.inc({ reason });
    this.logger.debug({ status, reason, peer: socket.remoteAddress }, "connection refused by the primary");
    refuseConnection(socket, status, detail);
  }

  /** Replaces the workers one slot at a time (SIGHUP). */
  reload(): Promise<void> {
    return this.pool.rollingRestart();
  }

  /**
   * Graceful stop: no new connections, every worker drains (its /readyz turns 503, Socket.IO
   * closes, the adapter closes), and what is still running after `shutdownTimeout` is killed.
   * Idempotent: every call returns the same promise.
   */
  close(): Promise<void> {
    this.closing ??= (async () => {
      this.lifecycle.setState("draining");
      this.heartbeat.stop();
      this.server?.close();
      this.adminServer?.close();
      this.metricsServer?.close();
      const killed = await this.pool.drain(this.options.shutdownTimeout);
      if (killed > 0) this.logger.warn({ killed }, `${killed} worker(s) did not drain within ${this.options.shutdownTimeout} ms and were killed`);
      this.lifecycle.setState("closed");
    })();
    return this.closing;
  }
}

/**
 * One connection's place in the per-IP count: held by the primary from accept (refused ones
 * too, until they close), moved to the worker it is handed to (which reports its close).
 */
class ConnectionHold {
  private ip: string | undefined;
  private worker: number | undefined;

  constructor(
    private readonly counter: ConnectionCounter,
    socket: Socket,
    /** False without a per-IP limit: nothing is counted, and workers send no close reports. */
    readonly counted: boolean,
  ) {
    socket.once("close", () => {
      if (this.ip !== undefined && this.worker === undefined) this.counter.release(PRIMARY_HOLDER, this.ip);
    });
  }

  count(ip: string): void {
    if (!this.counted || this.ip !== undefined) return;
    this.ip = ip;
    this.counter.add(PRIMARY_HOLDER, ip);
  }

  handTo(workerId: number): void {
    if (this.ip !== undefined) this.counter.move(PRIMARY_HOLDER, workerId, this.ip);
    this.worker = workerId;
  }

  /** The hand-off failed: the worker never had it. */
  handBack(): void {
    if (this.ip !== undefined && this.worker !== undefined) this.counter.release(this.worker, this.ip);
    this.ip = undefined;
  }
}

/** The peer as this socket already read it (remoteAddress ran getpeername once), for the worker's copy. */
function peerNameOf(socket: Socket): { peer?: PeerName } {
  const { remoteAddress: address, remoteFamily: family, remotePort: port } = socket;
  return address !== undefined && family !== undefined && port !== undefined ? { peer: { address, family, port } } : {};
}

function sendTo(worker: Worker, message: PrimaryToWorker): void {
  if (worker.isConnected()) worker.send(message, undefined, () => {});
}

function listen(server: Server, host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once("error", (error: NodeJS.ErrnoException) =>
      reject(new GatewayError("ERR_LISTEN", `cannot listen on ${host}:${port}: ${error.code ?? error.message}`)),
    );
    server.listen({ host, port, backlog: 4096 }, () => {
      const address = server.address();
      resolve(typeof address === "object" && address ? address.port : port);
    });
  });
}
