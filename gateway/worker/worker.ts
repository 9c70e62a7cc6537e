import { createServer, type Server as HttpServer } from "node:http";
import { Server, type ServerOptions } from "socket.io";
import { createGatewayAdapter, type GatewayAdapter } from "../../adapter/index.js";
import { describeRedisTarget } from "../../adapter/redis-url.js";
import { GatewayError } from "../../common/errors.js";
import { WORKER_EXIT_CONFIG } from "../exit-codes.js";
import { asPrimaryMessage, ipcMessage, type WorkerToPrimary } from "../ipc.js";
import { Lifecycle } from "../lifecycle.js";
import { createLogger, type Logger } from "../logger.js";
import type { ResolvedOptions } from "../options.js";
import { createSessionId } from "../session-id.js";
import { mountAdminUi } from "./admin-ui.js";
import { compactConnection } from "./compact-listeners.js";
import { adoptConnection } from "./adopt-connection.js";
import { loadAppModule, type LoadedApp } from "./app-module.js";
import { ClientAddresses } from "./client-address.js";
import { mountEmitRoute } from "./emit-route.js";
import { createWorkerApp } from "./http.js";
import { createWorkerMetrics } from "./metrics.js";
import { answerPrimary } from "./heartbeat.js";
import { PrimaryChannel } from "./primary-channel.js";
import { PrivateEndpoints } from "./private-endpoints.js";
import { RequestRouter } from "./request-router.js";
import { guardEvents } from "./rate-limit.js";
import { guardHandshakes } from "./handshake-guard.js";
import { mountPresenceRoute } from "./presence-route.js";
import { startWorkerPresence } from "./presence-store.js";
import type { WorkerPresence } from "./presence.js";
import { recoveryBounds } from "./recovery-options.js";
import { checkAppServerOptions, serverOptionsFor } from "./server-options.js";

/**
 * A worker process: an HTTP server (express + Socket.IO) that never listens on the public
 * port. It serves the TCP connections the primary hands over, and, with `workerPortBase`,
 * its own port too (a direct upstream for Nginx). Start-up, in order: the app module and its
 * options (a bad one stops everything, before any connection to Redis), the adapter, the
 * servers, the gateway's routes and guards, the app's set-up, then "ready" to the primary.
 */
export async function runWorker(options: ResolvedOptions, slot: number): Promise<void> {
  const logger = createLogger(options.logLevel, { worker: slot });
  const primary = new PrimaryChannel();
  // Library promises nobody awaits (a Redis command failing during an outage) must not take down
  // a worker that serves thousands of sockets: log them loudly instead of crashing.
  process.on("unhandledRejection", (reason) => logger.error({ err: reason instanceof Error ? reason.message : String(reason) }, "unhandled rejection"));

  const { app: loaded, serverOptions } = await startStep(primary, logger, () => loadApp(options));
  const recovery = recoveryBounds(serverOptions);
  const adapter = createGatewayAdapter(options.redis, logger, recovery);
  // Subscriptions sent before ioredis' first ready check put the connection in subscriber mode
  // and fail that check: namespaces (which subscribe) are created only once Redis is connected.
  if (!adapter.isConnected()) {
    logger.info({ adapter: adapter.kind }, "waiting for the adapter to connect");
    const target = options.redis ? `Redis at ${describeRedisTarget(options.redis)}` : "the primary (IPC)";
    primary.send(ipcMessage<WorkerToPrimary>({ type: "start-waiting", reason: `${target} to answer` }));
  }
  await adapter.whenConnected();
  const presence = await startWorkerPresence(options.redis, logger);

  const lifecycle = new Lifecycle(logger);
  const fetchMetrics = options.metrics === "on" ? () => primary.requestMetrics() : undefined;
  const { app, beforeGatewayRoutes } = createWorkerApp({ slot, lifecycle, adapter, logger, fetchMetrics });
  // The primary already enforced its header limit; the same limit here covers the worker port and keep-alive requests.
  const httpServer = createServer({ maxHeaderSize: options.maxHeaderSize }, app);
  const io = new Server(httpServer, { ...serverOptions, adapter: adapter.factory });
  // Session ids carry the slot, so the primary routes `?sid=` requests without a shared map.
  io.engine.generateId = () => createSessionId(slot);
  const addresses = new ClientAddresses(options.trustProxy);
  addresses.attach(io);

  // --admin-port: /metrics, /emit and /admin-ui only on the admin listener; first in line, before the app's middleware.
  const privateEndpoints = new PrivateEndpoints(options, io);
  beforeGatewayRoutes.use(privateEndpoints.guard);
  mountEmitRoute(app, io, options.emitToken, logger);
  mountPresenceRoute(app, presence, options.emitToken, logger);
  guardHandshakes(io);
  if (options.adminUi) mountAdminUi(app, io, options.adminUi);
  guardAndCount(io, adapter, slot, options.rateLimit);

  await startStep(primary, logger, () =>
    loaded.setup({
      io,
      app,
      beforeGatewayRoutes,
      httpServer,
      worker: { index: slot, pid: process.pid },
      logger,
      presence,
      published: (emit) => adapter.whenPublished(emit),
    }),
  );
  listenToPrimary({ httpServer, io, adapter, lifecycle, primary, addresses, logger, presence });
  // After the app's set-up, so the router stands in front of the app's own request listeners too.
  const router = new RequestRouter(httpServer, io, addresses, options, slot, logger, privateEndpoints, primary);
  primary.send(ipcMessage<WorkerToPrimary>({ type: "internal-address", path: await router.start() }));
  answerPrimary(primary);
  if (options.workerPortBase !== undefined) await listenOnWorkerPort(httpServer, options.host, options.workerPortBase + slot);
  lifecycle.setState("ready");
  primary.send(ipcMessage<WorkerToPrimary>({ type: "ready" }));
}

/** The app module and the Socket.IO options for its servers (checked: a bad one is a configuration error). */
async function loadApp(options: ResolvedOptions): Promise<{ app: LoadedApp; serverOptions: Partial<ServerOptions> }> {
  const app = await loadAppModule(options.app);
  return { app, serverOptions: serverOptionsFor(checkAppServerOptions(app.options), options) };
}

/**
 * Runs one start-up step; if it throws, the primary is told why in one line (a GatewayError is a
 * configuration error: nothing will start until it is fixed), the whole error with its stack is
 * logged, and the worker exits.
 */
async function startStep<T>(primary: PrimaryChannel, logger: Logger, step: () => T | Promise<T>): Promise<T> {
  try {
    return await step();
  } catch (error) {
    const configuration = error instanceof GatewayError;
    const message = error instanceof Error ? error.message : String(error);
    logger.error({ err: error }, configuration ? "cannot start: configuration" : "cannot start: the app's set-up threw");
    await primary.sendAndFlush(ipcMessage<WorkerToPrimary>({ type: "start-failed", configuration, message }));
    process.exit(configuration ? WORKER_EXIT_CONFIG : 1);
  }
}

/** The per-socket event guard (rate limit) and the worker's metrics, for every namespace. */
function guardAndCount(io: Server, adapter: GatewayAdapter, slot: number, rateLimit: number): void {
  const metrics = createWorkerMetrics(io, adapter, slot);
  const counters = { received: () => metrics.eventsReceivedTotal.inc(), refused: () => metrics.rateLimitedTotal.inc() };
  const installGuard = (socket: Parameters<typeof guardEvents>[0]): void => {
    guardEvents(socket, rateLimit, counters);
    // After this turn: the app's own connection handlers (which run after ours) have added their listeners.
    queueMicrotask(() => compactConnection(socket));
  };
  io.on("connection", installGuard);
  io.on("new_namespace", (namespace) => namespace.on("connection", installGuard));
}

interface WorkerParts {
  presence: WorkerPresence;
  httpServer: HttpServer;
  io: Server;
  adapter: GatewayAdapter;
  lifecycle: Lifecycle;
  primary: PrimaryChannel;
  addresses: ClientAddresses;
  logger: Logger;
}

/** The primary's messages (connections, metrics answers, drain) and the signals a worker gets. */
function listenToPrimary(parts: WorkerParts): void {
  const { httpServer, primary, addresses, logger } = parts;
  const drain = (): void => void drainWorker(parts);
  process.on("message", (raw: unknown, handle: unknown) => {
    const message = asPrimaryMessage(raw);
    if (!message) return;
    if (message.type === "connection") {
      const socket = adoptConnection(httpServer, message, handle, addresses, logger);
      const ip = message.ip;
      // `on`, not `once` (a socket closes once): no wrapper object per connection (bench/memory.ts).
      if (socket && message.reportClose) socket.on("close", () => primary.send(ipcMessage<WorkerToPrimary>({ type: "connection-closed", ip })));
    } else if (message.type === "metrics-response") primary.resolveMetrics(message);
    else if (message.type === "drain") drain();
  });
  // The primary coordinates shutdown: Ctrl-C reaches the whole process group, so SIGINT waits for its word.
  process.on("SIGINT", () => {});
  // SIGHUP means "rolling restart" to the primary; a terminal hang-up reaching the group must not kill workers.
  process.on("SIGHUP", () => {});
  process.on("SIGTERM", drain);
  process.on("disconnect", () => {
    logger.warn("primary gone, exiting");
    drain();
  });
}

/** `exclusive: true`: in a cluster worker a plain listen() would share the port through the primary. */
function listenOnWorkerPort(server: HttpServer, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once("error", (error: NodeJS.ErrnoException) => {
      process.stderr.write(`worker port ${host}:${port}: ${error.code ?? error.message}\n`);
      process.exit(WORKER_EXIT_CONFIG);
      reject(error);
    });
    server.listen({ port, host, exclusive: true }, resolve);
  });
}

/** Drain in order: /readyz 503, close Socket.IO (clients see a transport close and reconnect), close the adapter, exit 0. */
async function drainWorker({ lifecycle, io, adapter, logger, presence }: WorkerParts): Promise<void> {
  if (!lifecycle.setState("draining")) return;
  logger.info({ clients: io.engine.clientsCount }, "closing Socket.IO");
  await new Promise<void>((resolve) => void io.close(() => resolve()));
  await presence.close();
  await adapter.close();
  lifecycle.setState("closed");
  process.exit(0);
}
