import type { HaproxyConfigOptions } from "./options.js";

/** The options of the checked-in haproxy/sio-gateway.cfg: the defaults, in front of two local gateway nodes. */
export const EXAMPLE_HAPROXY_OPTIONS: HaproxyConfigOptions = { upstreams: ["127.0.0.1:3001", "127.0.0.1:3002"] };

/** Where the example lives, relative to the package root. */
export const EXAMPLE_HAPROXY_PATH = "haproxy/sio-gateway.cfg";
