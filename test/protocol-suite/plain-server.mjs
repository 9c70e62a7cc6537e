// A plain Socket.IO server running the suite's app (suite-app.mjs) on PORT, the reference to
// compare the gateway with. Prints `listening <port>` once it accepts connections.
import { Server } from "socket.io";
import suiteApp, { options } from "./suite-app.mjs";

const io = new Server(Number(process.env.PORT ?? 0), options);
suiteApp({ io });
io.httpServer.once("listening", () => process.stdout.write(`listening ${io.httpServer.address().port}\n`));
process.on("SIGTERM", () => io.close(() => process.exit(0)));
