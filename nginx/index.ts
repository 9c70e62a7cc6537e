/** `sio-gateway/nginx`: the Nginx config generator. */
export { generateNginxConfig } from "./generator.js";
export { resolveNginxOptions, parseUpstream, type NginxConfigOptions, type NginxBalance, type ResolvedNginxOptions } from "./options.js";
export { EXAMPLE_NGINX_OPTIONS, EXAMPLE_NGINX_PATH } from "./example.js";
