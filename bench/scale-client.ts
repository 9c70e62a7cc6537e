/**
 * The load process of `npm run bench:scale` (forked by bench/scale.ts, `--client`): up to ~15,000
 * Socket.IO clients in one process (a process may hold 20,000 fds here), each from its own
 * 127.A.B.C source address, speaking the Engine.IO v4 / Socket.IO protocol over a WebSocket
 * written by hand on a plain `net.Socket`: the upgrade request is one fixed string, frames from
 * the server are parsed in place, frames to it are masked with the all-zero key (valid per RFC
 * 6455, so no XOR to do). No `ws`, no `http.ClientRequest`, no per-client crypto: at 60,000
 * sockets the `ws` client's per-connection work (an HTTP client request, a random key and its
 * SHA-1 check, a Receiver and a Sender per socket) would cost the shared 2 cores a large part
 * of what the gateway spends, and the bench would measure its own client.
 *
 * Per socket: answer pings ("2" → "3"), send the namespace CONNECT ("40") after the open packet,
 * count it connected on "40{sid}", and for each broadcast event `42["b",<i>]` record the arrival
 * time (one clock read per read from the socket). Arrival times use `performance.timeOrigin +
 * performance.now()`, comparable with the bench process's stamps on the same machine.
 *
 * IPC: {type:"task"} → connects with bounded concurrency, sends {type:"connected", …};
 * {type:"expect", index} → {type:"expecting", open}, then {type:"complete", index} once every open
 * socket got broadcast `index`; {type:"report", index, sentAt} → {type:"broadcast", index,
 * arrivals: ms after `sentAt`, one per socket that got it, dropped: sockets closed since connect};
 * the process exits when its parent goes or after its lifetime bound.
 */
import { connect, type Socket } from "node:net";

export interface ClientTask {
  port: number;
  /** Sockets this process opens. */
  count: number;
  /** This process's address block: its sockets connect from 127.(first + i / 62,500).B.C. */
  addressBlock: number;
  /** Handshakes in flight at once (kept below the primary's accept backlog: 511 in Node). */
  concurrency: number;
  /** Give up on one handshake after this many ms (counted as failed). */
  handshakeTimeout: number;
  /** Give up on the connect phase as a whole after this many ms. */
  phaseTimeout: number;
}

export interface ConnectedReport {
  type: "connected";
  connected: number;
  failed: number;
  /** First failure messages (up to 5), for the report. */
  errors: string[];
  /** When the first handshake started and the last one finished (epoch ms, performance clock). */
  startedAt: number;
  finishedAt: number;
  /** Sockets per worker slot, read from the Engine.IO session id (`<slot>_<random>`). */
  perSlot: Record<string, number>;
  /** Milliseconds after startedAt at which 25/50/75/100 % of this process's sockets were connected. */
  quartiles: number[];
}

const now = (): number => performance.timeOrigin + performance.now();

// A fixed key (the RFC 6455 sample: 16 bytes in base64, as ws checks): the server only echoes its SHA-1 back, which a bench client has no need to check.
const UPGRADE = (port: number): string =>
  `GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
  `Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n`;

/** A masked text frame with the all-zero key (payloads here are under 126 bytes). */
function frame(text: string): Buffer {
  const payload = Buffer.from(text);
  return Buffer.concat([Buffer.from([0x81, 0x80 | payload.length, 0, 0, 0, 0]), payload]);
}
const PONG = frame("3");
const CONNECT = frame("40");

/** Each expected broadcast's arrival times (epoch ms), and how many arrivals make it complete here. */
const arrivals = new Map<number, { times: number[]; want: number }>();
const BROADCAST_PREFIX = '42["b",';

class ScaleSocket {
  /** Bytes of a frame split across reads. */
  private pending: Buffer | undefined;
  private upgraded = false;
  private sid = "";
  connected = false;

  constructor(
    readonly socket: Socket,
    private readonly onOpen: (sid: string) => void,
    private readonly onFail: (reason: string) => void,
  ) {
    socket.on("data", (chunk: Buffer) => this.onData(chunk));
  }

  private onData(chunk: Buffer): void {
    let data = this.pending ? Buffer.concat([this.pending, chunk]) : chunk;
    this.pending = undefined;
    if (!this.upgraded) {
      const end = data.indexOf("\r\n\r\n");
      if (end < 0) {
        this.pending = data;
        return;
      }
      const status = data.toString("latin1", 0, Math.min(end, 40));
      if (!status.startsWith("HTTP/1.1 101")) return this.onFail(status.split("\r\n")[0]);
      this.upgraded = true;
      data = data.subarray(end + 4);
    }
    let offset = 0;
    let at = 0;
    while (data.length - offset >= 2) {
      const opcode = data[offset] & 0x0f;
      let length = data[offset + 1] & 0x7f;
      let header = 2;
      if (length === 126) {
        if (data.length - offset < 4) break;
        length = data.readUInt16BE(offset + 2);
        header = 4;
      } else if (length === 127) {
        if (data.length - offset < 10) break;
        length = Number(data.readBigUInt64BE(offset + 2));
        header = 10;
      }
      if (data.length - offset < header + length) break;
      const start = offset + header;
      offset = start + length;
      if (opcode === 0x8) return this.onFail("closed by the server");
      if (opcode !== 0x1) continue; // the server sends no pings/continuations (Engine.IO pings are packets)
      const first = data[start];
      if (first === 0x32 /* "2" */ && length === 1) this.socket.write(PONG);
      else if (first === 0x34 /* "4" */) {
        const text = data.toString("utf8", start, start + length);
        if (text.startsWith(BROADCAST_PREFIX)) {
          at ||= now();
          const index = Number.parseInt(text.slice(BROADCAST_PREFIX.length), 10);
          const expected = arrivals.get(index);
          if (expected && expected.times.push(at) === expected.want) process.send!({ type: "complete", index });
        } else if (text.startsWith("40")) {
          this.connected = true;
          this.onOpen(this.sid);
        } else if (text.startsWith("44")) this.onFail(`connect_error ${text.slice(2, 100)}`);
      } else if (first === 0x30 /* "0" */) {
        // The Engine.IO session id (`<slot>_<random>` on the gateway), not the Socket.IO id of "40{sid}".
        this.sid = /"sid":"([^"]+)"/.exec(data.toString("utf8", start, start + length))?.[1] ?? "";
        this.socket.write(CONNECT);
      }
    }
    if (offset < data.length) this.pending = Buffer.from(data.subarray(offset));
  }
}

/** 127.A.B.C for the n-th socket of the process's block: 62,500 addresses per A, none ending in .0 or .255. */
export function sourceAddress(block: number, n: number): string {
  const a = block + Math.floor(n / 62_500);
  const rest = n % 62_500;
  return `127.${a}.${1 + Math.floor(rest / 250)}.${1 + (rest % 250)}`;
}

const sockets: ScaleSocket[] = [];

function openOne(task: ClientTask, n: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    let settled = false;
    const socket = connect({ port: task.port, host: "127.0.0.1", localAddress: sourceAddress(task.addressBlock, n), noDelay: true });
    const finish = (error: string | undefined, sid?: string): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (error !== undefined) socket.destroy();
      resolve(error ?? `ok ${sid}`);
    };
    const timer = setTimeout(() => finish(`no Socket.IO connection within ${task.handshakeTimeout} ms`), task.handshakeTimeout);
    const client = new ScaleSocket(
      socket,
      (sid) => finish(undefined, sid),
      (reason) => finish(reason),
    );
    socket.once("connect", () => socket.write(UPGRADE(task.port)));
    socket.on("error", (error: NodeJS.ErrnoException) => finish(`${error.code ?? error.message}`));
    socket.on("close", () => {
      if (client.connected) dropped++;
      finish("closed during the handshake");
    });
    sockets.push(client);
  });
}

let dropped = 0;

async function connectAll(task: ClientTask): Promise<ConnectedReport> {
  const startedAt = now();
  const deadline = startedAt + task.phaseTimeout;
  const perSlot: Record<string, number> = {};
  const errors: string[] = [];
  const doneAt: number[] = [];
  let next = 0;
  let failed = 0;
  await Promise.all(
    Array.from({ length: Math.min(task.concurrency, task.count) }, async () => {
      while (next < task.count && now() < deadline) {
        const outcome = await openOne(task, next++);
        if (outcome?.startsWith("ok ")) {
          doneAt.push(now() - startedAt);
          const slot = outcome.slice(3).split("_")[0];
          perSlot[slot] = (perSlot[slot] ?? 0) + 1;
        } else {
          failed++;
          if (errors.length < 5) errors.push(outcome ?? "unknown");
        }
      }
    }),
  );
  failed += task.count - next; // never started: the phase ran out of time
  const finishedAt = now();
  const quartiles = [0.25, 0.5, 0.75, 1].map((q) => doneAt[Math.max(0, Math.ceil(q * doneAt.length) - 1)] ?? NaN);
  return { type: "connected", connected: doneAt.length, failed, errors, startedAt, finishedAt, perSlot, quartiles };
}

if (process.argv.includes("--client")) {
  process.on("message", (message: { type: string; index?: number; sentAt?: number } & Partial<ClientTask>) => {
    if (message.type === "task") {
      connectAll(message as ClientTask).then(
        (report) => process.send!(report),
        (error: Error) => process.send!({ type: "error", error: error.message }),
      );
    } else if (message.type === "expect") {
      // Complete here once every socket still open has it (a socket dropped meanwhile shows in `open`).
      const open = sockets.reduce((sum, client) => sum + (client.connected && !client.socket.destroyed ? 1 : 0), 0);
      arrivals.set(message.index!, { times: [], want: open });
      process.send!({ type: "expecting", index: message.index, open });
    } else if (message.type === "report") {
      const times = arrivals.get(message.index!)?.times ?? [];
      arrivals.delete(message.index!);
      process.send!({ type: "broadcast", index: message.index, arrivals: times.map((t) => Math.round((t - message.sentAt!) * 10) / 10), dropped });
    }
  });
  process.on("disconnect", () => process.exit(0)); // the bench went away: so do its sockets
  setTimeout(() => process.exit(3), 15 * 60_000).unref(); // never outlives a bench by much
}
