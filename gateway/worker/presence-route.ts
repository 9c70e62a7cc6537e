import type { Express } from "express";
import type { Logger } from "pino";
import { GatewayError } from "../../common/errors.js";
import { digest, tokenMatches } from "./emit-route.js";
import { DEFAULT_MEMBERS_LIMIT, MAX_MEMBERS_LIMIT, type GatewayPresence } from "./presence.js";

/**
 * `GET /presence/:room?namespace=/&limit=100`: a room's count and members for backends in any
 * language, behind the same bearer token as `POST /emit` (404 without one, 401 on a wrong one).
 * 200 `{ ok, namespace, room, count, members }` (`limit=0`: the count alone, one read), 400 on a
 * bad room or limit, 503 when the presence store does not answer.
 */
export function mountPresenceRoute(app: Express, presence: GatewayPresence, token: string | undefined, logger: Logger): void {
  const expected = token === undefined ? undefined : digest(token);
  app.get("/presence/:room", async (req, res) => {
    if (!expected) {
      res.status(404).json({ ok: false, error: "GET /presence is disabled: start the gateway with --emit-token" });
      return;
    }
    if (!tokenMatches(req.headers.authorization, expected)) {
      res.status(401).set("WWW-Authenticate", "Bearer").json({ ok: false, error: "missing or wrong bearer token" });
      return;
    }
    const room = req.params.room;
    const namespace = typeof req.query.namespace === "string" ? req.query.namespace : "/";
    const limitText = typeof req.query.limit === "string" ? req.query.limit : String(DEFAULT_MEMBERS_LIMIT);
    const limit = /^\d{1,5}$/.test(limitText) ? Number(limitText) : NaN;
    if (!(limit <= MAX_MEMBERS_LIMIT)) {
      res.status(400).json({ ok: false, error: `limit must be an integer from 0 to ${MAX_MEMBERS_LIMIT}` });
      return;
    }
    try {
      const [count, members] = await Promise.all([presence.count(room, namespace), limit > 0 ? presence.members(room, { namespace, limit }) : []]);
      res.json({ ok: true, namespace, room, count, members });
    } catch (error) {
      const invalid = error instanceof GatewayError && error.code === "ERR_INVALID_PRESENCE";
      if (!invalid) logger.warn({ room, err: (error as Error).message }, "GET /presence failed");
      res.status(invalid ? 400 : 503).json({ ok: false, error: (error as Error).message });
    }
  });
}
