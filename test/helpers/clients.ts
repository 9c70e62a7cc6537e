import { Agent } from "node:http";
import { io, type Socket } from "socket.io-client";
import { slotForIp } from "../../gateway/routing.js";
import { waitFor } from "./wait.js";

export interface Hello {
  worker: number;
  pid: number;
  id: string;
}

export interface TestClientOptions {
  /** Source address (127.x.y.z), so IP routing sees distinct clients. */
  localAddress?: string;
  transports?: ("polling" | "websocket")[];
  /** Upgrade from polling to WebSocket (default transport only). @default true */
  upgrade?: boolean;
  reconnection?: boolean;
  extraHeaders?: Record<string, string>;
  /** Keep cookies between requests, as a browser does (engine.io-client's cookie jar in Node). */
  withCredentials?: boolean;
}

export interface TestClient {
  socket: Socket;
  hello: Hello;
  agent: Agent;
  close(): void;
}

/** The N-th distinct loopback source address: 127.0.1.1, 127.0.1.2, … */
export function loopbackAddress(n: number): string {
  return `127.0.${1 + Math.floor(n / 250)}.${1 + (n % 250)}`;
}

/**
 * A socket.io-client that behaves like a browser (keep-alive agent) from its own source
 * address, resolved once the demo app's `hello` arrived.
 */
export async function connectClient(url: string, options: TestClientOptions = {}, timeout = 10_000): Promise<TestClient> {
  const agent = new Agent({ keepAlive: true, localAddress: options.localAddress });
  const socket = io(url, {
    transports: options.transports ?? ["polling", "websocket"],
    upgrade: options.upgrade ?? true,
    reconnection: options.reconnection ?? true,
    reconnectionDelay: 100,
    reconnectionDelayMax: 500,
    forceNew: true,
    agent: agent as unknown as string,
    localAddress: options.localAddress,
    extraHeaders: options.extraHeaders,
    withCredentials: options.withCredentials ?? false,
  } as Parameters<typeof io>[1]);
  try {
    const [hello] = await waitFor<[Hello]>(socket, "hello", timeout);
    return { socket, hello, agent, close: () => (socket.disconnect(), agent.destroy()) };
  } catch (error) {
    socket.disconnect();
    agent.destroy();
    throw error;
  }
}

/** Emits with an acknowledgement and resolves with it (bounded by socket.io's own timeout). */
export function request<T = Record<string, unknown>>(socket: Socket, event: string, ...args: unknown[]): Promise<T> {
  return socket.timeout(10_000).emitWithAck(event, ...args) as Promise<T>;
}

/** Resolves when the socket runs on WebSocket (after the upgrade). */
export async function whenUpgraded(socket: Socket, timeout = 10_000): Promise<void> {
  const engine = socket.io.engine;
  if (engine.transport.name === "websocket") return;
  await waitFor(engine, "upgrade", timeout);
}

/**
 * `perWorker` clients on each of `workers` workers of a gateway reached directly: source
 * addresses are picked by their IP hash, from `loopbackAddress(offset)` on.
 */
export async function clientsPerWorker(
  url: string,
  workers: number,
  perWorker: number,
  options: Omit<TestClientOptions, "localAddress"> = {},
  offset = 0,
): Promise<TestClient[]> {
  const clients: TestClient[] = [];
  const counts = new Array<number>(workers).fill(0);
  for (let n = offset; n < offset + 500 && clients.length < workers * perWorker; n++) {
    const localAddress = loopbackAddress(n);
    const slot = slotForIp(localAddress, workers);
    if (counts[slot] >= perWorker) continue;
    counts[slot]++;
    clients.push(await connectClient(url, { ...options, localAddress }));
  }
  return clients;
}
