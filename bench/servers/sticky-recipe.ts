/**
 * The standard recipe from the Socket.IO docs ("Using multiple nodes" / @socket.io/sticky):
 * a primary with setupMaster (least-connection, stickiness by sid) and workers with
 * setupWorker and @socket.io/redis-adapter on ioredis. Written as the docs write it, as the
 * reference sio-gateway is measured against.
 */
import cluster from "node:cluster";
import { createServer } from "node:http";
import { createAdapter } from "@socket.io/redis-adapter";
import { setupMaster, setupWorker } from "@socket.io/sticky";
import { Redis } from "ioredis";
import { Server } from "socket.io";
import benchApp from "../app.mjs";

const port = Number(process.env.PORT);
const workers = Number(process.env.WORKERS ?? 2);

if (cluster.isPrimary) {
  const httpServer = createServer();
  setupMaster(httpServer, { loadBalancingMethod: "least-connection" });
  cluster.setupPrimary({ serialization: "advanced" });
  let ready = 0;
  for (let i = 0; i < workers; i++) {
    cluster.fork({ WORKER_INDEX: String(i) }).on("message", (message: unknown) => {
      if (message === "ready" && ++ready === workers) httpServer.listen(port, "127.0.0.1", () => process.stdout.write(`ready: http://127.0.0.1:${port}\n`));
    });
  }
  process.on("SIGTERM", () => {
    for (const worker of Object.values(cluster.workers ?? {})) worker?.kill();
    process.exit(0);
  });
} else {
  const pubClient = new Redis(process.env.REDIS_URL!);
  const subClient = pubClient.duplicate();
  const httpServer = createServer();
  const io = new Server(httpServer, { adapter: createAdapter(pubClient, subClient) });
  setupWorker(io);
  benchApp({ io, worker: { index: Number(process.env.WORKER_INDEX), pid: process.pid } });
  void Promise.all(
    [pubClient, subClient].map((client) => (client.status === "ready" ? Promise.resolve() : new Promise((resolve) => client.once("ready", resolve)))),
  ).then(() => process.send!("ready"));
}
