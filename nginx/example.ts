import type { NginxConfigOptions } from "./options.js";

/** The options of the checked-in nginx/sio-gateway.conf: the defaults, in front of two local gateway nodes. */
export const EXAMPLE_NGINX_OPTIONS: NginxConfigOptions = { upstreams: ["127.0.0.1:3001", "127.0.0.1:3002"] };

/** Where the example lives, relative to the package root. */
export const EXAMPLE_NGINX_PATH = "nginx/sio-gateway.conf";
