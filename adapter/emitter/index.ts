/** The public API of `sio-gateway/emitter`: push events into the gateway's rooms from any process (cron jobs, APIs). */
export { GatewayEmitter, GatewayBroadcast, type GatewayEmitterOptions, type EventsMap } from "./emitter.js";
export { PresenceReader } from "./presence-reader.js";
export type { PresenceMember } from "../presence/types.js";
