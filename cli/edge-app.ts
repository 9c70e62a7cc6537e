import { OPTION_SPECS } from "../gateway/options.js";
import { loadAppModule } from "../gateway/worker/app-module.js";
import { checkAppServerOptions } from "../gateway/worker/server-options.js";

/** What an edge proxy must agree on with the gateway's Socket.IO servers. */
export interface EdgeAppSettings {
  /** Socket.IO's `path`. */
  path: string;
  pingInterval: number;
  pingTimeout: number;
  /** Largest message, in bytes (Socket.IO's `maxHttpBufferSize`): the proxy's body limit. */
  maxHttpBufferSize: number;
}

/** Socket.IO's own defaults (engine.io's `ServerOptions`), for what the module leaves out. */
const SOCKET_IO_DEFAULTS: EdgeAppSettings = { path: "/socket.io", pingInterval: 25_000, pingTimeout: 20_000, maxHttpBufferSize: 1_000_000 };

/**
 * `nginx --app MODULE` / `haproxy --app MODULE`: the edge settings from the app module's
 * `export const options`, loaded and checked exactly as a worker loads and checks them, so
 * the proxy and the gateway cannot disagree on the path, the heartbeat or the body limit.
 */
export async function edgeSettingsFromApp(file: string): Promise<EdgeAppSettings> {
  const path = OPTION_SPECS.app.parse(file, "app") as string;
  const options = checkAppServerOptions((await loadAppModule(path)).options);
  return {
    path: options.path ?? SOCKET_IO_DEFAULTS.path,
    pingInterval: options.pingInterval ?? SOCKET_IO_DEFAULTS.pingInterval,
    pingTimeout: options.pingTimeout ?? SOCKET_IO_DEFAULTS.pingTimeout,
    maxHttpBufferSize: options.maxHttpBufferSize ?? SOCKET_IO_DEFAULTS.maxHttpBufferSize,
  };
}
