import { instrument } from "@socket.io/admin-ui";
import express, { type Express } from "express";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import type { Server } from "socket.io";
import { AdminLogin } from "./admin-login.js";

/**
 * `--admin-ui USER:PASSWORD`: @socket.io/admin-ui on every worker (namespace /admin), and its
 * web UI served by the gateway itself at /admin-ui/ (no CDN). The UI connects to one worker;
 * the others' reports reach it through the adapter, so it sees the whole cluster.
 *
 * The login is the gateway's own (admin-login.ts), registered on /admin before admin-ui, which
 * runs with `auth: false`: admin-ui's basic auth checks a bcrypt hash on the worker's event loop
 * at every attempt, unlimited.
 */
export function mountAdminUi(app: Express, io: Server, credentials: string): void {
  io.of("/admin").use(new AdminLogin(credentials).middleware);
  instrument(io, { auth: false, mode: "production" });
  const uiDir = join(dirname(createRequire(import.meta.url).resolve("@socket.io/admin-ui/package.json")), "ui", "dist");
  app.use("/admin-ui", express.static(uiDir));
}
