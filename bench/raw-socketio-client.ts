import { WebSocket } from "ws";

/**
 * The smallest Socket.IO client the presence bench needs (10,000 of them in one process, where
 * socket.io-client's per-socket weight would dominate): Engine.IO v4 over a WebSocket, the
 * namespace "/" CONNECT, pings answered, events with acknowledgements. Bench-only: no
 * reconnection, no binary, no polling.
 */
export class RawSocketIoClient {
  private nextAck = 0;
  private readonly acks = new Map<number, (args: unknown[]) => void>();

  private constructor(private readonly ws: WebSocket) {
    ws.on("message", (data: Buffer) => this.onPacket(data.toString()));
  }

  /** Opens the connection from `localAddress` and resolves once the namespace "/" is connected. */
  static connect(port: number, localAddress: string, timeout = 30_000): Promise<RawSocketIoClient> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(`ws://127.0.0.1:${port}/socket.io/?EIO=4&transport=websocket`, { localAddress });
      const timer = setTimeout(() => (ws.terminate(), reject(new Error(`no Socket.IO connection within ${timeout} ms`))), timeout);
      ws.once("error", (error) => (clearTimeout(timer), reject(error)));
      ws.on("message", function opening(data: Buffer) {
        const packet = data.toString();
        if (packet.startsWith("0")) ws.send("40");
        else if (packet.startsWith("40")) {
          ws.off("message", opening);
          clearTimeout(timer);
          resolve(new RawSocketIoClient(ws));
        } else if (packet.startsWith("44")) reject(new Error(`connect_error: ${packet.slice(2)}`));
      });
    });
  }

  private onPacket(packet: string): void {
    if (packet === "2") return this.ws.send("3");
    const ack = /^43(\d+)(.*)$/s.exec(packet);
    if (!ack) return;
    const id = Number(ack[1]);
    this.acks.get(id)?.(JSON.parse(ack[2]) as unknown[]);
    this.acks.delete(id);
  }

  /** Emits `event` with an acknowledgement; resolves with its first argument, rejects after `timeout` ms. */
  request<T>(event: string, args: unknown[], timeout = 30_000): Promise<T> {
    const id = this.nextAck++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => (this.acks.delete(id), reject(new Error(`no ack to ${event} within ${timeout} ms`))), timeout);
      this.acks.set(id, ([answer]) => (clearTimeout(timer), resolve(answer as T)));
      this.ws.send(`42${id}${JSON.stringify([event, ...args])}`);
    });
  }

  close(): void {
    this.ws.terminate();
  }
}

/**
 * One Socket.IO handshake with `authJson` as its `auth` (raw, so a 20,000-level object needs no
 * encoder), answered by what the gateway said: `connected`, the connect_error's message, or the
 * close code. Bench-only: the hostile clients of bench/presence.ts.
 */
export function rawHandshake(port: number, localAddress: string, authJson: string, timeout = 30_000): Promise<string> {
  return new Promise((resolve) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/socket.io/?EIO=4&transport=websocket`, { localAddress });
    const done = (outcome: string): void => {
      clearTimeout(timer);
      ws.terminate();
      resolve(outcome);
    };
    const timer = setTimeout(() => done(`no answer within ${timeout} ms`), timeout);
    ws.on("error", (error) => done(`error: ${error.message}`));
    ws.on("close", (code) => done(`closed ${code}`));
    ws.on("message", (data: Buffer) => {
      const packet = data.toString();
      if (packet.startsWith("0")) ws.send(`40${authJson}`);
      else if (packet.startsWith("40")) done("connected");
      else if (packet.startsWith("44")) done((JSON.parse(packet.slice(2)) as { message: string }).message);
    });
  });
}
