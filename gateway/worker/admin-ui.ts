import { instrument } from "@socket.io/admin-ui";
import bcrypt from "bcryptjs";
import express, { type Express } from "express";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import type { Server } from "socket.io";

/**
 * `--admin-ui USER:PASSWORD`: @socket.io/admin-ui on every worker (namespace /admin, basic
 * credentials required), and its web UI served by the gateway itself at /admin-ui/ (no CDN).
 * The UI connects to one worker; the others' reports reach it through the adapter, so it
 * sees the whole cluster.
 */
export function mountAdminUi(app: Express, io: Server, credentials: string): void {
  const colon = credentials.indexOf(":");
  instrument(io, {
    auth: { type: "basic", username: credentials.slice(0, colon), password: bcrypt.hashSync(credentials.slice(colon + 1), 10) },
    mode: "production",
  });
  const uiDir = join(dirname(createRequire(import.meta.url).resolve("@socket.io/admin-ui/package.json")), "ui", "dist");
  app.use("/admin-ui", express.static(uiDir));
}
