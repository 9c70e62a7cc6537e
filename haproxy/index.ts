/** `sio-gateway/haproxy`: the HAProxy config generator. */
export { generateHaproxyConfig } from "./generator.js";
export { resolveHaproxyOptions, type HaproxyConfigOptions, type HaproxyBalance, type ResolvedHaproxyOptions } from "./options.js";
export { EXAMPLE_HAPROXY_OPTIONS, EXAMPLE_HAPROXY_PATH } from "./example.js";
