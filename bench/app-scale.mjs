// The app of `npm run bench:scale`: nothing per socket (no listener, no greeting), so the figures
// are the gateway's own cost of holding an idle Socket.IO connection; broadcasts come through
// POST /emit. Each worker appends "<slot> <pid>" to $SCALE_WORKERS_FILE so the bench can put
// the per-worker RSS beside the per-slot socket counts (a session id names its slot).
// Plain JS so the older build the bench compares against loads it as it is.
import { appendFileSync } from "node:fs";

export default function scaleApp({ worker }) {
  if (process.env.SCALE_WORKERS_FILE) appendFileSync(process.env.SCALE_WORKERS_FILE, `${worker.index} ${worker.pid}\n`);
}
