import { createHash, timingSafeEqual } from "node:crypto";
import express, { type ErrorRequestHandler, type Express, type RequestHandler } from "express";
import type { Logger } from "pino";
import type { Namespace, Server } from "socket.io";
import { parseEmitRequest } from "./emit-request.js";

/** Largest `POST /emit` body, in bytes: Socket.IO's default maxHttpBufferSize. */
export const MAX_EMIT_BODY = 1_000_000;

export function digest(value: string): Buffer {
  return createHash("sha256").update(value).digest();
}

/** Compares bearer tokens in constant time (digests first, so the length leaks nothing either). */
export function tokenMatches(header: string | undefined, expected: Buffer): boolean {
  const match = /^Bearer (.+)$/.exec(header ?? "");
  return match !== null && timingSafeEqual(digest(match[1]), expected);
}

/**
 * `POST /emit`: the door for backends in any language. 202 once handed to the adapter (which
 * reaches every worker, through Redis or through the primary), 401 on a missing or wrong token,
 * 400 on a bad body, 413 on a body over 1 MB, 404 when no token is configured.
 */
export function mountEmitRoute(app: Express, io: Server, token: string | undefined, logger: Logger): void {
  if (token === undefined) {
    app.post("/emit", (_req, res) => {
      res.status(404).json({ ok: false, error: "POST /emit is disabled: start the gateway with --emit-token" });
    });
    return;
  }
  const expected = digest(token);
  const namespaces = new Set<string>(["/"]);
  io.on("new_namespace", (namespace: Namespace) => namespaces.add(namespace.name));
  const authorize: RequestHandler = (req, res, next) => {
    if (tokenMatches(req.headers.authorization, expected)) return next();
    res.status(401).set("WWW-Authenticate", "Bearer").json({ ok: false, error: "missing or wrong bearer token" });
  };
  // eslint-disable-next-line @typescript-eslint/no-unused-vars -- Express tells an error handler by its four parameters, so `_next` must stay.
  const badBody: ErrorRequestHandler = (error: { status?: number; type?: string; message: string }, _req, res, _next) => {
    const status = error.type === "entity.too.large" ? 413 : 400;
    res.status(status).json({ ok: false, error: status === 413 ? `body larger than ${MAX_EMIT_BODY} bytes` : `invalid JSON body: ${error.message}` });
  };
  const emit: RequestHandler = (req, res) => {
    const parsed = parseEmitRequest(req.body);
    if (!parsed.ok) {
      res.status(400).json({ ok: false, error: parsed.error });
      return;
    }
    const { event, data, to, except, namespace } = parsed.request;
    // Only namespaces the app created: io.of() would create one for any name a caller sends.
    if (!namespaces.has(namespace)) {
      res.status(400).json({ ok: false, error: `unknown namespace "${namespace}"` });
      return;
    }
    const target = io.of(namespace).to(to).except(except);
    if ("data" in parsed.request) target.emit(event, data);
    else target.emit(event);
    logger.debug({ event, to, except, namespace }, "POST /emit");
    res.status(202).json({ ok: true });
  };
  app.post("/emit", authorize, express.json({ limit: MAX_EMIT_BODY, type: "application/json" }), emit, badBody);
}
