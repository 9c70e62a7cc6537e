// The lean bench app (app.mjs) on the eiows WebSocket engine (`wsEngine`), for bench/fanout.ts's
// "eiows" systems. eiows is never a dependency of this project: it is a native addon for Node
// ≥ 22.9, installed outside it (`npm install --prefix /tmp/eiows eiows` with that node on PATH)
// and imported by absolute path, EIOWS_PATH or the default below. Run the bench under that node.
import { createRequire } from "node:module";

export { default } from "./app.mjs";

const eiowsPath = process.env.EIOWS_PATH ?? "/tmp/eiows/node_modules/eiows/dist/eiows.js";
const eiows = createRequire(import.meta.url)(eiowsPath);

export const options = { wsEngine: eiows.Server };
