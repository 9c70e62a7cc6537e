import express from "express";
import { fileURLToPath } from "node:url";
import type { Server, Socket } from "socket.io";
import type { GatewayAppContext } from "../gateway/worker/app-module.js";
import { displayName, roomError, textError } from "./validation.js";

/**
 * The demo chat app, and the example of the app-module contract: a default export that gets
 * `{ io, app, worker, logger }` once per worker. Rooms and broadcasts reach every worker
 * through the gateway's adapter; member counts are asked of the whole cluster.
 *
 * Events (namespace "/"): hello on connect; join(room, ack); leave(room, ack);
 * chat({ room, text, name? }, ack?); whoami(ack). Server → room: members { room, members } on changes.
 */
type Ack = (response: Record<string, unknown>) => void;

const PUBLIC_DIR = fileURLToPath(new URL("../../demo-app/public/", import.meta.url));

/** Calls the ack if the client asked for one (an event may arrive without it). */
function reply(ack: unknown, response: Record<string, unknown>): void {
  if (typeof ack === "function") (ack as Ack)(response);
}

/** Sockets in a room across the cluster. */
async function countMembers(io: Server, room: string): Promise<number> {
  return (await io.in(room).fetchSockets()).length;
}

async function announceMembers(io: Server, room: string): Promise<number> {
  const members = await countMembers(io, room);
  io.to(room).emit("members", { room, members });
  return members;
}

/**
 * Member-count announcements after leaves and disconnects, coalesced per room: when a worker
 * drains, all its sockets disconnect in one tick, and one cluster-wide count per room (not
 * one per socket) is what the remaining members need.
 */
function memberAnnouncer(io: Server, logger: GatewayAppContext["logger"]): (rooms: string[]) => void {
  const pending = new Set<string>();
  return (rooms) => {
    if (pending.size === 0 && rooms.length > 0) {
      // setImmediate: after the disconnect completes, so the count no longer includes the socket.
      setImmediate(() => {
        const batch = [...pending];
        pending.clear();
        for (const room of batch) announceMembers(io, room).catch((error: Error) => logger.debug({ room, err: error.message }, "member count failed"));
      });
    }
    for (const room of rooms) pending.add(room);
  };
}

export default function demoApp({ io, app, worker, logger }: GatewayAppContext): void {
  app.use(express.static(PUBLIC_DIR));
  const announceLater = memberAnnouncer(io, logger);

  io.on("connection", (socket: Socket) => {
    const name = displayName((socket.handshake.auth as { name?: unknown } | undefined)?.name);
    socket.emit("hello", { worker: worker.index, pid: worker.pid, id: socket.id });

    socket.on("join", async (room: unknown, ack: unknown) => {
      const error = roomError(room);
      if (error) return reply(ack, { ok: false, error });
      await socket.join(room as string);
      try {
        reply(ack, { ok: true, room, members: await announceMembers(io, room as string) });
      } catch (failure) {
        logger.warn({ room, err: (failure as Error).message }, "member count failed");
        reply(ack, { ok: false, error: `joined, but the member count is unavailable: ${(failure as Error).message}` });
      }
    });

    socket.on("leave", async (room: unknown, ack: unknown) => {
      const error = roomError(room);
      if (error) return reply(ack, { ok: false, error });
      await socket.leave(room as string);
      reply(ack, { ok: true, room });
      announceLater([room as string]);
    });

    socket.on("chat", (message: unknown, ack: unknown) => {
      const {
        room,
        text,
        name: chosenName,
      } = (typeof message === "object" && message !== null ? message : {}) as { room?: unknown; text?: unknown; name?: unknown };
      const error = roomError(room) ?? textError(text);
      if (error) return reply(ack, { ok: false, error });
      // The room plus the sender's own room: the sender gets its message even before it joined.
      io.to(room as string)
        .to(socket.id)
        .emit("chat", { room, text, from: socket.id, name: displayName(chosenName) ?? name ?? socket.id.slice(-6), worker: worker.index, at: Date.now() });
      reply(ack, { ok: true });
    });

    socket.on("whoami", (ack: unknown) => {
      reply(ack, { worker: worker.index, pid: worker.pid, id: socket.id, rooms: [...socket.rooms].filter((room) => room !== socket.id) });
    });

    socket.on("disconnecting", () => announceLater([...socket.rooms].filter((room) => room !== socket.id)));
  });
}
