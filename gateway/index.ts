/** The public API of `sio-gateway`. */
export { startGateway, readyLine, type Gateway } from "./start.js";
export { resolveOptions, OPTION_SPECS, type GatewayOptions, type ResolvedOptions, type LogLevel } from "./options.js";
export { GatewayError, type GatewayErrorCode } from "../common/errors.js";
export { defineApp, type GatewayApp, type GatewayAppContext, type GatewayServerOptions, type EventsMap } from "./worker/app-module.js";
export { RATE_LIMITED_EVENT, type RateLimitedNotice } from "./worker/rate-limit.js";
export type { AdapterKind } from "../adapter/index.js";
