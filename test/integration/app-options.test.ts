/**
 * An app module's own Socket.IO server options (`export const options`), applied by every
 * worker as `new Server(httpServer, options)` applies them: path, heartbeat, body limit,
 * msgpack parser, transports and CORS, on polling and WebSocket, with 2 workers, in
 * single-machine and Redis mode. Then the options the gateway refuses at start.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { WebSocket } from "ws";
import { loopbackAddress } from "../helpers/clients.js";
import { httpRequest, type RawResponse } from "../helpers/engine-raw.js";
import { binaryPayload } from "../helpers/fixtures.js";
import { GatewayProcess, runCli } from "../helpers/gateway-process.js";
import { addressForSlot, connectMsgpackClient, OPTIONS_APP_PATH, type MsgpackClient } from "../helpers/msgpack-client.js";
import { RedisServer } from "../helpers/redis-server.js";
import { waitFor } from "../helpers/wait.js";

const fixture = (name: string): string => fileURLToPath(new URL(`../fixtures/${name}`, import.meta.url));
const OPTIONS_APP = fixture("options-app.mjs");
const WEBSOCKET_ONLY_APP = fixture("websocket-only-app.mjs");

interface OpenPacket {
  sid: string;
  upgrades: string[];
  pingInterval: number;
  pingTimeout: number;
  maxPayload: number;
}

/** An Engine.IO polling handshake at `path`; the raw response and, when it is one, the open packet. */
async function pollingHandshake(port: number, path: string, localAddress: string, headers?: Record<string, string>) {
  const response = await httpRequest(port, "GET", `${path}/?EIO=4&transport=polling`, { localAddress, headers });
  const text = response.body.toString();
  const open = response.status === 200 && text.startsWith("0{") ? (JSON.parse(text.slice(1)) as OpenPacket) : undefined;
  return { response, open };
}

/**
 * Two msgpack clients on different workers join one room; the second shouts binary data and
 * the first must receive it intact, broadcast by the second's worker.
 */
async function assertBinaryBroadcastCrossesWorkers(url: string, transports: ("polling" | "websocket")[], offset: number): Promise<void> {
  const clients: MsgpackClient[] = [];
  try {
    for (const slot of [0, 1]) clients.push(await connectMsgpackClient(url, addressForSlot(slot, 2, offset), transports));
    const [listener, shouter] = clients;
    assert.deepEqual(
      clients.map((client) => client.hello.worker),
      [0, 1],
    );
    for (const client of clients) assert.deepEqual(await client.socket.timeout(10_000).emitWithAck("join", "binary"), { ok: true, room: "binary" });
    const data = binaryPayload(4096);
    const received = waitFor<[{ data: Uint8Array; worker: number }]>(listener.socket, "shouted");
    shouter.socket.emit("shout", { room: "binary", data });
    const [shouted] = await received;
    assert.equal(shouted.worker, 1, "broadcast by the shouter's worker");
    assert.ok(Buffer.from(shouted.data).equals(data), "the binary payload arrives intact through msgpack and the adapter");
  } finally {
    for (const client of clients) client.close();
  }
}

describe("app module options: single-machine mode, 2 workers", () => {
  let gateway: GatewayProcess;

  before(async () => {
    gateway = await GatewayProcess.start(["--workers", "2", "--app", OPTIONS_APP]);
  });
  after(async () => {
    assert.equal((await gateway.stop()).code, 0);
  });

  it("the handshake at the custom path carries the module's pingInterval, pingTimeout, maxHttpBufferSize and transports", async () => {
    for (const n of [0, 1, 2, 3]) {
      const { response, open } = await pollingHandshake(gateway.port, OPTIONS_APP_PATH, loopbackAddress(200 + n));
      assert.ok(open, `no open packet: ${response.status} ${response.body.toString()}`);
      assert.equal(open.pingInterval, 4321);
      assert.equal(open.pingTimeout, 2345);
      assert.equal(open.maxPayload, 10_000);
      assert.deepEqual(open.upgrades, ["websocket"]);
    }
  });

  it("the default path /socket.io/ no longer answers, for Engine.IO or the client bundle", async () => {
    const { response, open } = await pollingHandshake(gateway.port, "/socket.io", loopbackAddress(210));
    assert.equal(open, undefined);
    assert.equal(response.status, 404);
    assert.equal((await httpRequest(gateway.port, "GET", "/socket.io/socket.io.js")).status, 404);
  });

  it("serves the client bundle at the custom path", async () => {
    const bundle = await httpRequest(gateway.port, "GET", `${OPTIONS_APP_PATH}/socket.io.js`);
    assert.equal(bundle.status, 200);
    assert.match(String(bundle.headers["content-type"]), /javascript/);
    assert.ok(bundle.body.length > 10_000, `a bundle of ${bundle.body.length} bytes`);
  });

  it("refuses a polling POST over maxHttpBufferSize with 413, on the session's worker", async () => {
    const address = loopbackAddress(211);
    const { open } = await pollingHandshake(gateway.port, OPTIONS_APP_PATH, address);
    assert.ok(open);
    const post = (body: string): Promise<RawResponse> =>
      httpRequest(gateway.port, "POST", `${OPTIONS_APP_PATH}/?EIO=4&transport=polling&sid=${encodeURIComponent(open.sid)}`, {
        localAddress: address,
        body,
        headers: { "Content-Type": "text/plain;charset=UTF-8" },
      });
    // 20 KB would pass the default 1 MB limit: only the module's 10,000 refuses it.
    assert.equal((await post(`4${"x".repeat(20_000)}`)).status, 413);
  });

  it("closes a WebSocket that sends a frame over maxHttpBufferSize with 1009", async () => {
    const ws = new WebSocket(`ws://127.0.0.1:${gateway.port}${OPTIONS_APP_PATH}/?EIO=4&transport=websocket`, { localAddress: loopbackAddress(212) });
    try {
      const [open] = await waitFor<[Buffer]>(ws, "message");
      assert.match(open.toString(), /"maxPayload":10000/);
      const closed = waitFor<[number]>(ws, "close");
      ws.send(`4${"x".repeat(20_000)}`);
      const [code] = await closed;
      assert.equal(code, 1009);
    } finally {
      ws.terminate();
    }
  });

  it("msgpack clients on the custom path: a broadcast with binary crosses workers (polling, then WebSocket)", async () => {
    await assertBinaryBroadcastCrossesWorkers(gateway.url, ["polling"], 220);
    await assertBinaryBroadcastCrossesWorkers(gateway.url, ["polling", "websocket"], 230);
  });

  it("applies the module's cors: its origin is allowed, another is not", async () => {
    const allowed = async (origin: string) =>
      (await pollingHandshake(gateway.port, OPTIONS_APP_PATH, loopbackAddress(240), { Origin: origin })).response.headers["access-control-allow-origin"];
    assert.equal(await allowed("http://app.example"), "http://app.example");
    assert.notEqual(await allowed("http://other.example"), "http://other.example");
  });
});

describe("app module options: Redis mode, 2 workers, transports: websocket only", () => {
  let redis: RedisServer;
  let gateway: GatewayProcess;

  before(async () => {
    redis = await RedisServer.start();
    gateway = await GatewayProcess.start(["--workers", "2", "--redis", redis.url, "--app", WEBSOCKET_ONLY_APP]);
  });
  after(async () => {
    try {
      assert.equal((await gateway.stop()).code, 0);
    } finally {
      await redis.stop();
    }
  });

  it("refuses a polling handshake (the module's transports apply)", async () => {
    const { response, open } = await pollingHandshake(gateway.port, OPTIONS_APP_PATH, loopbackAddress(250));
    assert.equal(open, undefined);
    assert.equal(response.status, 400);
    assert.match(response.body.toString(), /Transport unknown/);
  });

  it("msgpack clients over WebSocket: a broadcast with binary crosses workers through Redis", async () => {
    await assertBinaryBroadcastCrossesWorkers(gateway.url, ["websocket"], 260);
  });
});

describe("--cors-origin '*' over the module's cors", () => {
  it("a cross-origin handshake and a preflight get Access-Control-Allow-Origin: *", async () => {
    const gateway = await GatewayProcess.start(["--workers", "2", "--app", OPTIONS_APP, "--cors-origin", "*"]);
    try {
      const headers = { Origin: "http://anywhere.example" };
      const { response, open } = await pollingHandshake(gateway.port, OPTIONS_APP_PATH, loopbackAddress(270), headers);
      assert.ok(open, `handshake: ${response.status}`);
      assert.equal(response.headers["access-control-allow-origin"], "*");
      const preflight = await httpRequest(gateway.port, "OPTIONS", `${OPTIONS_APP_PATH}/?EIO=4&transport=polling&sid=${encodeURIComponent(open.sid)}`, {
        localAddress: loopbackAddress(270),
        headers: { ...headers, "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type" },
      });
      assert.equal(preflight.status, 204);
      assert.equal(preflight.headers["access-control-allow-origin"], "*");
      assert.match(String(preflight.headers["access-control-allow-methods"]), /POST/);
    } finally {
      assert.equal((await gateway.stop()).code, 0);
    }
  });
});

describe("options the gateway refuses at start", () => {
  /** The stderr lines of a start that must fail, with the app's options coming from the environment. */
  async function failedStart(app: string, env: NodeJS.ProcessEnv = {}) {
    const result = await runCli(
      ["start", "--port", "0", "--host", "127.0.0.1", "--workers", "2", "--app", fixture(app)],
      { LOG_LEVEL: "silent", ...env },
      30_000,
    );
    return { code: result.code, lines: result.stderr.trim().split("\n") };
  }

  it("an app that sets adapter exits 2 naming options.adapter", async () => {
    const { code, lines } = await failedStart("adapter-app.mjs");
    assert.equal(code, 2);
    assert.equal(lines.length, 1, lines.join("\n"));
    assert.match(lines[0], /invalid option "options\.adapter": the gateway owns the adapter/);
  });

  it("an app whose set-up throws exits 1 with its message in one line", async () => {
    const { code, lines } = await failedStart("throwing-app.mjs");
    assert.equal(code, 1);
    assert.equal(lines.length, 1, lines.join("\n"));
    assert.match(lines[0], /the database is unreachable \(test\)/);
  });

  it("an option of the wrong type exits 2 naming options.<name>, what it expects and what it got", async () => {
    const cases: [name: string, value: unknown, expected: RegExp][] = [
      ["pingInterval", "soon", /"options\.pingInterval": expected a duration in ms \(integer > 0\), got "soon"/],
      ["maxHttpBufferSize", -1, /"options\.maxHttpBufferSize": expected a size in bytes/],
      ["transports", "websocket", /"options\.transports": expected a non-empty array of polling, websocket/],
      ["path", "realtime", /"options\.path": expected a path starting with \//],
      ["parser", "msgpack", /"options\.parser": expected a parser module with Encoder and Decoder/],
      ["connectionStateRecovery", true, /"options\.connectionStateRecovery": expected an object/],
    ];
    for (const [name, value, expected] of cases) {
      const { code, lines } = await failedStart("bad-options-app.mjs", { OPTION_NAME: name, OPTION_VALUE: JSON.stringify(value) });
      assert.equal(code, 2, name);
      assert.equal(lines.length, 1, lines.join("\n"));
      assert.match(lines[0], expected);
    }
  });
});
