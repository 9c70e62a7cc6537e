// The lean bench app (app.mjs) with connection-state recovery on: every worker then uses the
// recovering adapter over the ordered log (a Redis Stream with --redis, the primary without),
// so bench/recovery.ts compares the same app with recovery off (app.mjs) and on (this module).
export { default } from "./app.mjs";

export const options = { connectionStateRecovery: { maxDisconnectionDuration: 120000 } };
