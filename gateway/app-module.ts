import { pathToFileURL } from "node:url";
import type { Express } from "express";
import type { Logger } from "pino";
import type { Server } from "socket.io";
import { GatewayError } from "./errors.js";

/** What an app module's default export receives, once per worker. */
export interface GatewayAppContext {
  /** The worker's Socket.IO server; rooms and broadcasts reach the whole cluster. */
  io: Server;
  /** The worker's express app (the gateway's /healthz, /readyz, /metrics come first). */
  app: Express;
  /** Which worker this is: `index` is its slot, stable across restarts. */
  worker: { index: number; pid: number };
  /** The worker's structured logger. */
  logger: Logger;
}

/** The contract of `--app`: a module whose default export sets up the app on one worker. */
export type GatewayApp = (ctx: GatewayAppContext) => void | Promise<void>;

/** Imports the app module and checks its default export. */
export async function loadAppModule(path: string): Promise<GatewayApp> {
  let module: { default?: unknown };
  try {
    module = (await import(pathToFileURL(path).href)) as { default?: unknown };
  } catch (error) {
    throw new GatewayError("ERR_WORKER_START", `app module "${path}" failed to load: ${(error as Error).message}`);
  }
  // A CommonJS module's `module.exports = fn` arrives as `default`; `exports.default = fn` one level deeper.
  const candidate = typeof module.default === "object" && module.default !== null ? (module.default as { default?: unknown }).default : module.default;
  if (typeof candidate !== "function") {
    throw new GatewayError("ERR_WORKER_START", `app module "${path}": expected a default export (ctx) => void, got ${typeof candidate}`);
  }
  return candidate as GatewayApp;
}
