import type { IncomingMessage } from "node:http";
import type { RequestHandler } from "express";
import type { Server, Socket } from "socket.io";
import { asPrimaryMessageOf } from "../ipc.js";
import type { ResolvedOptions } from "../options.js";

/** Header a peer sets on a request it forwards from an `--admin-port` connection (trusted on the private Unix socket only). */
export const ADMIN_HEADER = "x-sio-gateway-admin";

/** The endpoints that belong to operators, not to clients. */
const PRIVATE_PATHS = ["/metrics", "/emit", "/presence", "/admin-ui"];

/**
 * `--admin-port`: the private endpoints (`/metrics`, `/admin-ui` and its /admin namespace,
 * `POST /emit`, `/presence`) are served only on connections the primary accepted on the admin listener
 * (handed over marked `admin`), or requests a peer forwarded from one. On the public port and
 * the worker ports they answer 404, whatever proxy config sits in front. Without the option
 * nothing changes.
 */
export class PrivateEndpoints {
  private readonly adminSockets = new WeakSet<object>();
  private readonly adminRequests = new WeakSet<IncomingMessage>();
  readonly enabled: boolean;

  constructor(options: ResolvedOptions, io: Server) {
    this.enabled = options.adminPort !== undefined;
    if (!this.enabled) return;
    process.on("message", (raw: unknown, handle: unknown) => {
      const message = asPrimaryMessageOf(raw, "connection");
      // The HTTP parser reads the adopted socket on a later tick: marking it here comes first.
      if (message?.admin && typeof handle === "object" && handle !== null) this.adminSockets.add(handle);
    });
    io.of("/admin").use((socket: Socket, next: (error?: Error) => void) => {
      if (this.isAdmin(socket.request)) return next();
      next(new Error("the admin namespace is served on the admin port (--admin-port)"));
    });
  }

  /** True when the request came in on the admin listener (directly or forwarded by a peer). */
  isAdmin(req: IncomingMessage): boolean {
    return this.adminSockets.has(req.socket) || this.adminRequests.has(req);
  }

  /** A request forwarded by a peer says whether it came from the admin listener (only peers reach that socket). */
  adoptForwarded(req: IncomingMessage): void {
    if (this.enabled && req.headers[ADMIN_HEADER] === "1") this.adminRequests.add(req);
  }

  /** Express middleware, in front of every route: private paths answer 404 off the admin listener. */
  readonly guard: RequestHandler = (req, res, next) => {
    if (!this.enabled || this.isAdmin(req)) return next();
    if (!PRIVATE_PATHS.some((path) => req.path === path || req.path.startsWith(`${path}/`))) return next();
    res.status(404).type("text/plain").send("not here: served on the admin port (--admin-port)\n");
  };
}
