/**
 * The load generator, a process of its own (forked by run.ts, so client CPU is not server CPU).
 * It gets one task over IPC, runs it against one system, and answers with its figures.
 * Every loop is bounded in count and in time.
 */
import { Agent } from "node:http";
import { io as ioClient, type Socket } from "socket.io-client";
import { WebSocket } from "ws";
import { GatewayEmitter } from "../adapter/emitter/index.js";
import { countFlood } from "./flood.js";

export type ClientKind = "socketio" | "ws";

export type Task =
  | { scenario: "connect"; url: string; kind: ClientKind; count: number; concurrency: number; transports: ("polling" | "websocket")[] }
  | { scenario: "polling"; url: string; kind: ClientKind; clients: number; duration: number }
  | { scenario: "fanout"; url: string; kind: ClientKind; clients: number; messages: number }
  | { scenario: "latency"; url: string; kind: ClientKind; clients: number; rate: number; duration: number; redisUrl?: string };

/** What a client of either kind offers the scenarios. */
interface BenchClient {
  on(event: string, listener: (arg: unknown) => void): void;
  emit(event: string, arg?: unknown): void;
  /** Emit and wait for the acknowledgement (socket.io only). */
  request(event: string, arg: unknown): Promise<unknown>;
  close(): void;
}

const CONNECT_TIMEOUT = 20_000;

/** 127.0.x.y, one per client up to 62,500: each simulated client has its own address. */
function address(n: number): string {
  return `127.0.${1 + (Math.floor(n / 250) % 250)}.${1 + (n % 250)}`;
}

function connectSocketIo(url: string, n: number, transports: ("polling" | "websocket")[]): Promise<BenchClient> {
  const localAddress = address(n);
  const agent = new Agent({ keepAlive: true, localAddress });
  const socket: Socket = ioClient(url, {
    transports,
    forceNew: true,
    reconnection: false,
    agent: agent as unknown as string,
    localAddress,
    timeout: CONNECT_TIMEOUT,
  } as Parameters<typeof ioClient>[1]);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("no hello")), CONNECT_TIMEOUT);
    socket.once("connect_error", (error) => (clearTimeout(timer), reject(error)));
    socket.once("hello", () => {
      clearTimeout(timer);
      resolve({
        on: (event, listener) => socket.on(event, listener),
        emit: (event, arg) => socket.emit(event, arg),
        request: (event, arg) => socket.timeout(CONNECT_TIMEOUT).emitWithAck(event, arg),
        close: () => (socket.disconnect(), agent.destroy()),
      });
    });
  });
}

function connectWs(url: string, n: number): Promise<BenchClient> {
  const socket = new WebSocket(url.replace(/^http/, "ws"), { localAddress: address(n), perMessageDeflate: false });
  const listeners = new Map<string, (arg: unknown) => void>();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("no hello")), CONNECT_TIMEOUT);
    socket.once("error", (error) => (clearTimeout(timer), reject(error)));
    socket.on("message", (raw) => {
      // binaryType is the default "nodebuffer": every message arrives as one Buffer.
      const [event, arg] = JSON.parse((raw as Buffer).toString()) as [string, unknown];
      if (event === "hello") {
        clearTimeout(timer);
        resolve({
          on: (name, listener) => listeners.set(name, listener),
          emit: (name, value) => socket.send(JSON.stringify([name, value])),
          request: () => Promise.reject(new Error("no acknowledgements over raw ws")),
          close: () => socket.close(),
        });
      } else listeners.get(event)?.(arg);
    });
  });
}

function connect(task: { url: string; kind: ClientKind }, n: number, transports: ("polling" | "websocket")[] = ["websocket"]): Promise<BenchClient> {
  return task.kind === "ws" ? connectWs(task.url, n) : connectSocketIo(task.url, n, transports);
}

/** Connects `count` clients, `concurrency` at a time; failures are counted, not retried. */
async function connectMany(
  task: { url: string; kind: ClientKind },
  count: number,
  concurrency: number,
  transports?: ("polling" | "websocket")[],
): Promise<{ clients: BenchClient[]; failed: number }> {
  const clients: BenchClient[] = [];
  let failed = 0;
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, count) }, async () => {
      while (next < count) {
        const n = next++;
        try {
          clients.push(await connect(task, n, transports));
        } catch {
          failed++;
        }
      }
    }),
  );
  return { clients, failed };
}

const now = (): number => performance.timeOrigin + performance.now();

function percentile(sorted: number[], p: number): number {
  return sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

type Report = (message: Record<string, unknown>) => void;
type Wait = () => Promise<void>;

async function run(task: Task, report: Report, waitForGo: Wait): Promise<Record<string, unknown>> {
  switch (task.scenario) {
    case "connect": {
      const started = now();
      const { clients, failed } = await connectMany(task, task.count, task.concurrency, task.transports);
      const seconds = (now() - started) / 1000;
      for (const client of clients) client.close();
      return { connected: clients.length, failed, seconds, perSecond: clients.length / seconds };
    }
    case "polling": {
      const { clients, failed } = await connectMany(task, task.clients, 50, ["polling"]);
      await Promise.all(clients.map((client, i) => client.request("join", `r${i}`)));
      let roundTrips = 0;
      const started = now();
      const deadline = started + task.duration;
      await Promise.all(
        clients.map(async (client, i) => {
          let arrived: (() => void) | undefined;
          client.on("chat", () => arrived?.());
          while (now() < deadline) {
            const received = new Promise<void>((resolve) => (arrived = resolve));
            client.emit("chat", { room: `r${i}`, text: "round trip" });
            await received;
            roundTrips++;
          }
        }),
      );
      const seconds = (now() - started) / 1000;
      for (const client of clients) client.close();
      return { clients: clients.length, failed, roundTrips, seconds, perSecond: roundTrips / seconds };
    }
    case "fanout": {
      const { clients, failed } = await connectMany(task, task.clients, 100);
      report({ type: "connected", clients: clients.length });
      await waitForGo();
      const expected = clients.length * task.messages;
      const { received, seconds } = await countFlood(
        expected,
        (delivered) => clients.forEach((client) => client.on("tick", delivered)),
        () => clients[0].emit("flood", task.messages),
      );
      // The server's CPU per delivery is read between "connected" and this: connects and closes are not deliveries.
      report({ type: "delivered" });
      for (const client of clients) client.close();
      return { clients: clients.length, failed, expected, received, lost: expected - received, seconds, perSecond: received / seconds };
    }
    case "latency": {
      const { clients, failed } = await connectMany(task, task.clients, 100);
      const sink: { latencies: number[] } = { latencies: [] };
      for (const client of clients) client.on("stamp", (sentAt) => sink.latencies.push(now() - (sentAt as number)));
      const inBand = await measureLatency(sink, clients.length, task.rate, task.duration, () => clients[0].emit("stamp"));
      let fromEmitter: Record<string, number> = {};
      if (task.redisUrl) {
        const emitter = new GatewayEmitter({ redis: task.redisUrl });
        const measured = await measureLatency(sink, clients.length, task.rate, task.duration, () => void emitter.emit("stamp", now()));
        fromEmitter = { emitterSamples: measured.samples, emitterP50: measured.p50, emitterP99: measured.p99 };
        await emitter.close();
      }
      for (const client of clients) client.close();
      return { clients: clients.length, failed, ...inBand, ...fromEmitter };
    }
  }
}

/**
 * Sends one stamped broadcast every 1/rate s for `duration` ms (the timer is the load being
 * measured), then waits a moment for stragglers; latency = receipt − the server's (or the
 * emitter's) clock at the emit.
 */
async function measureLatency(
  sink: { latencies: number[] },
  clients: number,
  rate: number,
  duration: number,
  send: () => void,
): Promise<{ samples: number; expected: number; p50: number; p99: number }> {
  const latencies: number[] = (sink.latencies = []);
  const sends = Math.round((duration / 1000) * rate);
  for (let i = 0; i < sends; i++) {
    send();
    await new Promise((resolve) => setTimeout(resolve, 1000 / rate));
  }
  await new Promise((resolve) => setTimeout(resolve, 500));
  const sorted = latencies.sort((a, b) => a - b);
  return { samples: sorted.length, expected: sends * clients, p50: percentile(sorted, 50), p99: percentile(sorted, 99) };
}

process.once("message", (task: Task) => {
  const goes: (() => void)[] = [];
  process.on("message", (message: { type?: string }) => {
    if (message.type === "go") goes.shift()?.();
  });
  run(
    task,
    (message) => process.send!(message),
    () => new Promise((resolve) => goes.push(resolve)),
  ).then(
    (result) => process.send!({ type: "result", result }, () => process.exit(0)),
    (error: Error) => process.send!({ type: "error", error: error.message }, () => process.exit(1)),
  );
});
