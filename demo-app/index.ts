import express from "express";
import { fileURLToPath } from "node:url";
import type { Socket } from "socket.io";
import type { GatewayAppContext, GatewayServerOptions } from "../gateway/worker/app-module.js";
import { TokenBucket } from "../gateway/worker/rate-limit.js";
import { MembersAnnouncer } from "./members-announcer.js";
import { CHAT_RATE, displayName, roomError, textError, TOO_MANY_MESSAGES } from "./validation.js";

/**
 * The demo chat app, and the example of the app-module contract: a default export that gets
 * `{ io, app, worker, logger, presence }` once per worker. Rooms and broadcasts reach every
 * worker through the gateway's adapter; member counts come from the gateway's presence service
 * (one O(1) update per join or leave, whatever the room size), not from `fetchSockets`.
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

/**
 * Socket.IO options of the demo: connection-state recovery, so a member who reconnects within two
 * minutes (a network blip, or its worker restarted or killed) gets its id, rooms and every
 * message it missed, without joining again (`socket.recovered` tells the page).
 */
export const options: GatewayServerOptions = {
  connectionStateRecovery: { maxDisconnectionDuration: 2 * 60 * 1000 },
};

export default function demoApp(ctx: GatewayAppContext): void {
  // `published` stays a method call on ctx (a bare reference would lose its `this`).
  const { io, app, worker, logger, presence } = ctx;
  app.use(express.static(PUBLIC_DIR));
  // Browsers ask for /favicon.ico whatever the page says; a 404 there is a console error.
  app.get("/favicon.ico", (_req, res) => res.type("image/svg+xml").sendFile(`${PUBLIC_DIR}favicon.svg`));
  const announcer = new MembersAnnouncer(io);
  presence.on("change", (change) => announcer.onChange(change));

  io.on("connection", (socket: Socket) => {
    const name = displayName((socket.handshake.auth as { name?: unknown } | undefined)?.name);
    // Public record of the member: the display name only, never the handshake.
    const record = name ? { name } : {};
    // The demo's own chat limit, under the gateway's (which drops events without answering): a
    // chatty client learns why its message went nowhere.
    const chatBucket = new TokenBucket(CHAT_RATE);
    socket.emit("hello", { worker: worker.index, pid: worker.pid, id: socket.id });
    // A socket that recovered its session (connection-state recovery) is back in its rooms: a member again.
    if (socket.recovered) {
      for (const room of [...socket.rooms].filter((room) => room !== socket.id)) {
        presence.join(socket, room, record).then(
          (joined) => announcer.note(room, joined),
          (failure: Error) => logger.warn({ room, err: failure.message }, "presence re-join after recovery failed"),
        );
      }
    }

    socket.on("join", async (room: unknown, ack: unknown) => {
      const error = roomError(room);
      if (error) return reply(ack, { ok: false, error });
      await socket.join(room as string);
      try {
        const joined = await presence.join(socket, room as string, record);
        reply(ack, { ok: true, room, members: joined.count });
        announcer.note(room as string, joined);
      } catch (failure) {
        logger.warn({ room, err: (failure as Error).message }, "presence join failed");
        reply(ack, { ok: false, error: `joined, but the member count is unavailable: ${(failure as Error).message}` });
      }
    });

    socket.on("leave", async (room: unknown, ack: unknown) => {
      const error = roomError(room);
      if (error) return reply(ack, { ok: false, error });
      await socket.leave(room as string);
      // Acked once presence has it, so a join that follows the ack (from anyone) counts without this socket.
      // The new count reaches the room's other members as a presence change, on every worker.
      await presence.leave(socket, room as string).catch((failure: Error) => logger.warn({ room, err: failure.message }, "presence leave failed"));
      reply(ack, { ok: true, room });
    });

    socket.on("chat", (message: unknown, ack: unknown) => {
      const {
        room,
        text,
        name: chosenName,
      } = (typeof message === "object" && message !== null ? message : {}) as { room?: unknown; text?: unknown; name?: unknown };
      const error = roomError(room) ?? textError(text) ?? (chatBucket.take() ? undefined : TOO_MANY_MESSAGES);
      if (error) return reply(ack, { ok: false, error });
      const chat = { room, text, from: socket.id, name: displayName(chosenName) ?? name ?? socket.id.slice(-6), worker: worker.index, at: Date.now() };
      // The room plus the sender's own room: the sender gets its message even before it joined.
      // `ok: true` means the message is in the recovery log: it reaches every member, even one whose
      // worker dies right now, once it reconnects.
      ctx
        .published(() =>
          io
            .to(room as string)
            .to(socket.id)
            .emit("chat", chat),
        )
        .then(
          () => reply(ack, { ok: true }),
          (failure: Error) => reply(ack, { ok: false, error: `not sent: ${failure.message}` }),
        );
    });

    socket.on("whoami", (ack: unknown) => {
      reply(ack, { worker: worker.index, pid: worker.pid, id: socket.id, rooms: [...socket.rooms].filter((room) => room !== socket.id) });
    });
    // A socket leaves every presence room by itself when it disconnects (gateway/worker/presence.ts).
  });
}
