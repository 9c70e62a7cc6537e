// The server the Socket.IO protocol test suite expects (its README's reference server), written
// once as an app module: `sio-gateway start --app suite-app.mjs` runs it on every worker, and
// plain-server.mjs runs the very same code in one plain `new Server(port, options)`.

/** The suite's settings (its README: pingInterval 300, pingTimeout 200, maxPayload 1e6, connectTimeout 1000, cors *). */
export const options = {
  pingInterval: 300,
  pingTimeout: 200,
  maxHttpBufferSize: 1_000_000,
  connectTimeout: 1000,
  cors: { origin: "*" },
};

export default function suiteApp({ io }) {
  io.on("connection", (socket) => {
    socket.emit("auth", socket.handshake.auth);
    socket.on("message", (...args) => socket.emit("message-back", ...args));
    socket.on("message-with-ack", (...args) => {
      const ack = args.pop();
      ack(...args);
    });
  });
  io.of("/custom").on("connection", (socket) => socket.emit("auth", socket.handshake.auth));
}
