import { Agent } from "node:http";
import { io, type Socket } from "socket.io-client";
import msgpackParser from "socket.io-msgpack-parser";
import { slotForIp } from "../../gateway/routing.js";
import { loopbackAddress, type Hello } from "./clients.js";
import { waitFor } from "./wait.js";

/** The path of test/fixtures/options-app.mjs (its `options.path`). */
export const OPTIONS_APP_PATH = "/realtime";

export interface MsgpackClient {
  socket: Socket;
  hello: Hello;
  close(): void;
}

/**
 * A socket.io-client as an app with the options fixture's settings would ship it: the msgpack
 * parser and the custom path, from its own source address; resolved once `hello` arrived.
 */
export async function connectMsgpackClient(
  url: string,
  localAddress: string,
  transports: ("polling" | "websocket")[] = ["polling", "websocket"],
): Promise<MsgpackClient> {
  const agent = new Agent({ keepAlive: true, localAddress });
  const socket = io(url, {
    path: OPTIONS_APP_PATH,
    parser: msgpackParser,
    transports,
    forceNew: true,
    reconnection: false,
    agent: agent as unknown as string,
    localAddress,
  } as Parameters<typeof io>[1]);
  const close = (): void => {
    socket.disconnect();
    agent.destroy();
  };
  try {
    const [hello] = await waitFor<[Hello]>(socket, "hello");
    return { socket, hello, close };
  } catch (error) {
    close();
    throw error;
  }
}

/** A loopback source address (from `loopbackAddress(offset)` on) that the primary hashes to `slot`. */
export function addressForSlot(slot: number, workers: number, offset: number): string {
  for (let n = offset; n < offset + 200; n++) if (slotForIp(loopbackAddress(n), workers) === slot) return loopbackAddress(n);
  throw new Error(`no address from loopbackAddress(${offset}) on hashes to slot ${slot} of ${workers}`);
}
