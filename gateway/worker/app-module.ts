import type { Server as HttpServer } from "node:http";
import { pathToFileURL } from "node:url";
import type { Express, Router } from "express";
import type { Logger } from "pino";
import type { DefaultEventsMap, Server, ServerOptions } from "socket.io";
import { GatewayError } from "../../common/errors.js";
import type { GatewayPresence } from "./presence.js";

/** Socket.IO's constraint on event maps (its own `EventsMap`, which the package does not export). */
export interface EventsMap {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- the same as Socket.IO's, so any interface of events fits
  [event: string]: any;
}

/**
 * What an app module's default export receives, once per worker. The type parameters are
 * those of a plain `Server<ListenEvents, EmitEvents, ServerSideEvents, SocketData>`.
 */
export interface GatewayAppContext<
  ListenEvents extends EventsMap = DefaultEventsMap,
  EmitEvents extends EventsMap = ListenEvents,
  ServerSideEvents extends EventsMap = DefaultEventsMap,
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- Socket.IO's own default for socket.data
  SocketData = any,
> {
  /** The worker's Socket.IO server, built with the module's `options`; rooms and broadcasts reach the whole cluster. */
  io: Server<ListenEvents, EmitEvents, ServerSideEvents, SocketData>;
  /** The worker's express app; its routes come after the gateway's own (/healthz, /readyz, /metrics, /emit, /admin-ui). */
  app: Express;
  /** An express Router that runs before the gateway's own routes: put your auth for /metrics or /emit here. */
  beforeGatewayRoutes: Router;
  /** The worker's HTTP server, for libraries that want one (it never listens on the public port itself). */
  httpServer: HttpServer;
  /** Which worker this is: `index` is its slot, stable across restarts. */
  worker: { index: number; pid: number };
  /** The worker's structured logger. */
  logger: Logger;
  /**
   * Runs `emit` (e.g. `() => io.to(room).emit("chat", message)`) and resolves once its broadcasts
   * are durable: with `connectionStateRecovery`, appended to the recovery log, so a client that
   * reconnects gets them even if this worker dies right after; without it, at once. Rejects when a
   * broadcast could not be published (Redis down): acknowledge a message to its sender after this.
   */
  published(emit: () => unknown): Promise<void>;
  /** Cluster-wide presence: who is in a room and how many, with join/leave notifications (gateway/worker/presence.ts). */
  presence: GatewayPresence;
}

/** The contract of `--app`: a module whose default export sets up the app on one worker. */
export type GatewayApp<
  ListenEvents extends EventsMap = DefaultEventsMap,
  EmitEvents extends EventsMap = ListenEvents,
  ServerSideEvents extends EventsMap = DefaultEventsMap,
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- Socket.IO's own default for socket.data
  SocketData = any,
> = (ctx: GatewayAppContext<ListenEvents, EmitEvents, ServerSideEvents, SocketData>) => void | Promise<void>;

/** The app module's optional `options` export: Socket.IO server options, less `adapter` (the gateway's). */
export type GatewayServerOptions = Partial<Omit<ServerOptions, "adapter">>;

/**
 * Types an app module's default export, as `new Server<...>()` would type the server:
 * `export default defineApp<ClientEvents, ServerEvents, {}, { user: string }>(({ io }) => …)`.
 * It returns `setup` unchanged.
 */
export function defineApp<
  ListenEvents extends EventsMap = DefaultEventsMap,
  EmitEvents extends EventsMap = ListenEvents,
  ServerSideEvents extends EventsMap = DefaultEventsMap,
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- Socket.IO's own default for socket.data
  SocketData = any,
>(setup: GatewayApp<ListenEvents, EmitEvents, ServerSideEvents, SocketData>): GatewayApp<ListenEvents, EmitEvents, ServerSideEvents, SocketData> {
  return setup;
}

/** An app module as loaded: its set-up function and its (unchecked) `options` export. */
export interface LoadedApp {
  setup: GatewayApp;
  /** The module's `options` export as found (checked by resolveServerOptions); undefined without one. */
  options: unknown;
}

/** Imports the app module and checks its default export. */
export async function loadAppModule(path: string): Promise<LoadedApp> {
  let module: { default?: unknown; options?: unknown };
  try {
    module = (await import(pathToFileURL(path).href)) as { default?: unknown; options?: unknown };
  } catch (error) {
    const cause = error as Error;
    throw new GatewayError("ERR_WORKER_START", `app module "${path}" failed to load: ${cause.message}`, { cause });
  }
  // A CommonJS module's `module.exports = fn` arrives as `default`; `exports.default = fn` one level deeper.
  const nested = typeof module.default === "object" && module.default !== null ? (module.default as { default?: unknown; options?: unknown }) : undefined;
  const candidate = nested ? nested.default : module.default;
  if (typeof candidate !== "function") {
    throw new GatewayError("ERR_WORKER_START", `app module "${path}": expected a default export (ctx) => void, got ${typeof candidate}`);
  }
  return { setup: candidate as GatewayApp, options: module.options ?? nested?.options };
}
