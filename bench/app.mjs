// The app every Socket.IO system runs in the benchmarks (sio-gateway through --app, the
// standard recipe and the single process directly): the demo app's protocol, made lean so
// the systems are compared, not the app. Plain JS so every system loads it as it is.
export default function benchApp({ io, worker }) {
  io.on("connection", (socket) => {
    socket.emit("hello", { worker: worker.index, pid: worker.pid, id: socket.id });
    socket.on("join", async (room, ack) => {
      await socket.join(room);
      if (typeof ack === "function") ack({ ok: true, room });
    });
    socket.on("chat", (message, ack) => {
      io.to(message.room).emit("chat", { room: message.room, text: message.text, from: socket.id, worker: worker.index, at: Date.now() });
      if (typeof ack === "function") ack({ ok: true });
    });
    // Fan-out: `count` broadcasts to everyone, as fast as the server can issue them.
    socket.on("flood", (count, ack) => {
      for (let i = 0; i < count; i++) io.emit("tick", i);
      if (typeof ack === "function") ack(count);
    });
    // Latency: one broadcast stamped with the server's clock at the moment of the emit.
    socket.on("stamp", () => io.emit("stamp", performance.timeOrigin + performance.now()));
  });
}
