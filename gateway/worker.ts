import { createServer, type Server as HttpServer } from "node:http";
import { Socket as NetSocket } from "node:net";
import { Server } from "socket.io";
import { createGatewayAdapter, type GatewayAdapter } from "../adapter/index.js";
import { loadAppModule } from "./app-module.js";
import { GatewayError } from "./errors.js";
import { mountAdminUi } from "./admin-ui.js";
import { mountEmitRoute } from "./emit-route.js";
import { createWorkerApp } from "./http.js";
import { asPrimaryMessage, ipcMessage, type ConnectionMessage, type WorkerToPrimary } from "./ipc.js";
import { Lifecycle } from "./lifecycle.js";
import { createLogger, type Logger } from "./logger.js";
import { createWorkerMetrics } from "./metrics.js";
import type { ResolvedOptions } from "./options.js";
import { PrimaryChannel } from "./primary-channel.js";
import { guardEvents } from "./rate-limit.js";
import { createSessionId } from "./session-id.js";

/** Exit code of a worker that cannot start because of its configuration (EX_CONFIG): the primary gives up. */
export const WORKER_EXIT_CONFIG = 78;

/**
 * A worker process: an HTTP server (express + Socket.IO) that never listens on the public
 * port. It serves the TCP connections the primary hands over, and, with `workerPortBase`,
 * its own port too (a direct upstream for Nginx).
 */
export async function runWorker(options: ResolvedOptions, slot: number): Promise<void> {
  const logger = createLogger(options.logLevel, { worker: slot });
  const lifecycle = new Lifecycle(logger);
  const primary = new PrimaryChannel();
  const adapter = createGatewayAdapter(options.redis, logger);
  // Library promises nobody awaits (a Redis command failing during an outage) must not take down
  // a worker that serves thousands of sockets: log them loudly instead of crashing.
  process.on("unhandledRejection", (reason) => logger.error({ err: reason instanceof Error ? reason.message : String(reason) }, "unhandled rejection"));
  // Subscriptions sent before ioredis' first ready check put the connection in subscriber mode
  // and fail that check: namespaces (which subscribe) are created only once Redis is connected.
  if (!adapter.isConnected()) logger.info({ adapter: adapter.kind }, "waiting for the adapter to connect");
  await adapter.whenConnected();

  const fetchMetrics = options.metrics === "on" ? () => primary.requestMetrics() : undefined;
  const app = createWorkerApp({ slot, lifecycle, adapter, logger, fetchMetrics });
  // The primary already enforced its header limit; the same limit here covers the worker port and keep-alive requests.
  const server = createServer({ maxHeaderSize: options.maxHeaderSize }, app);
  const io = new Server(server, {
    adapter: adapter.factory,
    cors: options.corsOrigin.length > 0 ? { origin: [...options.corsOrigin], credentials: true } : undefined,
    cookie: options.cookie ? { name: options.cookie, path: "/", httpOnly: true, sameSite: "lax" } : false,
  });
  // Session ids carry the slot, so the primary routes `?sid=` requests without a shared map.
  io.engine.generateId = () => createSessionId(slot);

  mountEmitRoute(app, io, options.emitToken, logger);
  if (options.adminUi) mountAdminUi(app, io, options.adminUi);
  const metrics = createWorkerMetrics(io, adapter, slot);
  const counters = { received: () => metrics.eventsReceivedTotal.inc(), refused: () => metrics.rateLimitedTotal.inc() };
  const installGuard = (socket: Parameters<typeof guardEvents>[0]): void => guardEvents(socket, options.rateLimit, counters);
  io.on("connection", installGuard);
  io.on("new_namespace", (namespace) => namespace.on("connection", installGuard));

  try {
    const setUpApp = await loadAppModule(options.app);
    await setUpApp({ io, app, worker: { index: slot, pid: process.pid }, logger });
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n`);
    process.exit(error instanceof GatewayError ? WORKER_EXIT_CONFIG : 1);
  }

  const drain = () => void drainWorker({ lifecycle, io, adapter, logger });
  process.on("message", (raw: unknown, handle: unknown) => {
    const message = asPrimaryMessage(raw);
    if (!message) return;
    if (message.type === "connection") adoptConnection(server, message, handle, primary, logger);
    else if (message.type === "metrics-response") primary.resolveMetrics(message);
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

  if (options.workerPortBase !== undefined) {
    await listenOnWorkerPort(server, options.host, options.workerPortBase + slot);
  }
  lifecycle.setState("ready");
  primary.send(ipcMessage<WorkerToPrimary>({ type: "ready" }));
}

/**
 * Takes over a connection from the primary: the HTTP server gets the socket, then the bytes
 * the primary read are put back in front of what is still in the kernel's buffer. This runs
 * in the same tick as the socket's creation, before any read from the handle can land.
 */
function adoptConnection(server: HttpServer, message: ConnectionMessage, handle: unknown, primary: PrimaryChannel, logger: Logger): void {
  if (!(handle instanceof NetSocket)) {
    logger.debug("connection message without a socket: dropped");
    return;
  }
  const bytes = Buffer.from(message.bytes.buffer, message.bytes.byteOffset, message.bytes.byteLength);
  const ip = message.ip;
  if (ip !== undefined) handle.once("close", () => primary.send(ipcMessage<WorkerToPrimary>({ type: "connection-closed", ip })));
  server.emit("connection", handle);
  handle.unshift(bytes);
  handle.resume();
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
async function drainWorker({ lifecycle, io, adapter, logger }: { lifecycle: Lifecycle; io: Server; adapter: GatewayAdapter; logger: Logger }): Promise<void> {
  if (!lifecycle.setState("draining")) return;
  logger.info({ clients: io.engine.clientsCount }, "closing Socket.IO");
  await new Promise<void>((resolve) => io.close(() => resolve()));
  await adapter.close();
  lifecycle.setState("closed");
  process.exit(0);
}
