/** One Socket.IO process, no scale-out: the baseline every scale-out system pays overhead against. */
import { createServer } from "node:http";
import { Server } from "socket.io";
import benchApp from "../app.mjs";

const port = Number(process.env.PORT);
const httpServer = createServer();
const io = new Server(httpServer);
benchApp({ io, worker: { index: 0, pid: process.pid } });
httpServer.listen(port, "127.0.0.1", () => process.stdout.write(`ready: http://127.0.0.1:${port}\n`));
process.on("SIGTERM", () => void io.close(() => process.exit(0)));
