// The app of `npm run bench:presence` (plain JS, loaded through --app): a room's count from the
// gateway's presence service, or, with PRESENCE_BENCH_COUNT=fetchSockets in the gateway's
// environment, the way the demo app counted before presence: `io.in(room).fetchSockets()`.
const byFetchSockets = process.env.PRESENCE_BENCH_COUNT === "fetchSockets";

export default function presenceBenchApp({ io, presence }) {
  const count = async (room) => (byFetchSockets ? (await io.in(room).fetchSockets()).length : presence.count(room));
  io.on("connection", (socket) => {
    // Fills the room without counting: the members the measured joins find there.
    socket.on("enter", async (room, ack) => {
      await socket.join(room);
      if (!byFetchSockets) await presence.join(socket, room);
      ack({ ok: true });
    });
    // What the demo's join does: join, then answer with the room's count across the cluster.
    socket.on("join", async (room, ack) => {
      await socket.join(room);
      try {
        const members = byFetchSockets ? await count(room) : (await presence.join(socket, room)).count;
        ack({ ok: true, members });
      } catch (error) {
        ack({ ok: false, error: error.message });
      }
    });
    socket.on("count", async (room, ack) => {
      try {
        ack({ ok: true, members: await count(room) });
      } catch (error) {
        ack({ ok: false, error: error.message });
      }
    });
  });
}
