/**
 * A raw `ws` server, the ceiling: no Engine.IO, no Socket.IO, no adapter. It speaks just
 * enough of the bench protocol (JSON arrays: ["hello", …], ["flood", n], ["stamp"]) and
 * builds each broadcast frame once.
 */
import { createServer } from "node:http";
import { WebSocketServer, type WebSocket } from "ws";

const port = Number(process.env.PORT);
const httpServer = createServer();
const wss = new WebSocketServer({ server: httpServer, perMessageDeflate: false });

function broadcast(data: string): void {
  for (const client of wss.clients) client.send(data);
}

wss.on("connection", (socket: WebSocket) => {
  socket.send(JSON.stringify(["hello", { worker: 0, pid: process.pid }]));
  socket.on("message", (raw) => {
    // binaryType is the default "nodebuffer": every message arrives as one Buffer.
    const [event, argument] = JSON.parse((raw as Buffer).toString()) as [string, number];
    if (event === "flood") for (let i = 0; i < argument; i++) broadcast(JSON.stringify(["tick", i]));
    else if (event === "stamp") broadcast(JSON.stringify(["stamp", performance.timeOrigin + performance.now()]));
  });
});
httpServer.listen(port, "127.0.0.1", () => process.stdout.write(`ready: http://127.0.0.1:${port}\n`));
process.on("SIGTERM", () => process.exit(0));
