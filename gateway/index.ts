/** The public API of `sio-gateway`. */
export { startGateway, readyLine, type Gateway } from "./start.js";
export { resolveOptions, OPTION_SPECS, type GatewayOptions, type ResolvedOptions, type LogLevel } from "./options.js";
export { GatewayError, type GatewayErrorCode } from "../common/errors.js";
export type { GatewayApp, GatewayAppContext } from "./worker/app-module.js";
export type { AdapterKind } from "../adapter/index.js";
