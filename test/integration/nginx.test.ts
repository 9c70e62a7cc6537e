/**
 * The edge: generated configs pass `nginx -t`, and a real nginx in front of two gateway nodes
 * (sharing a private redis-server) keeps every client on one node and one worker, in both
 * topologies: nginx → nodes' public ports, and nginx → every worker's own port.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { generateNginxConfig } from "../../nginx/index.js";
import { slotForIp } from "../../gateway/routing.js";
import { connectClient, request, type TestClient } from "../helpers/clients.js";
import { GatewayProcess, runCli } from "../helpers/gateway-process.js";
import { Inbox } from "../helpers/inbox.js";
import { NginxServer, nginxTest } from "../helpers/nginx-server.js";
import { freePortRange } from "../helpers/ports.js";
import { RedisServer } from "../helpers/redis-server.js";
import { makeTestCertificate } from "../helpers/tls-cert.js";

/** Client addresses in distinct /24s: nginx's ip_hash hashes an IPv4 client by its first three octets. */
const CLIENT_IPS = Array.from({ length: 8 }, (_, k) => `127.0.${10 + k}.1`);

describe("generated configs pass nginx -t", () => {
  const prefix = mkdtempSync(join(tmpdir(), "sio-nginx-t-"));
  after(() => rmSync(prefix, { recursive: true, force: true }));

  it("full configs: ip_hash, hash, TLS", () => {
    const tls = makeTestCertificate(prefix);
    const variants = [
      { upstreams: ["127.0.0.1:3001", "127.0.0.1:3002"], full: true },
      { upstreams: ["127.0.0.1:3001", "[::1]:3002"], full: true, balance: "hash" as const, serverName: "chat.example.com", listen: 18080 },
      { upstreams: ["127.0.0.1:3001"], full: true, tlsCert: tls.cert, tlsKey: tls.key, listen: 18443 },
    ];
    for (const [index, options] of variants.entries()) {
      const file = join(prefix, `full-${index}.conf`);
      writeFileSync(file, generateNginxConfig(options));
      const result = nginxTest(prefix, file);
      assert.equal(result.code, 0, result.output);
    }
  });

  it("the http-context snippet and the checked-in example, included from a minimal nginx.conf", () => {
    const snippet = join(prefix, "snippet.conf");
    writeFileSync(snippet, generateNginxConfig({ upstreams: ["127.0.0.1:3001"], listen: 18081 }));
    const example = new URL("../../nginx/sio-gateway.conf", import.meta.url).pathname;
    for (const included of [snippet, example]) {
      const wrapper = join(prefix, "wrapper.conf");
      writeFileSync(wrapper, `pid nginx.pid;\nerror_log error.log;\nevents {}\nhttp {\n    include ${included};\n}\n`);
      const result = nginxTest(prefix, wrapper);
      assert.equal(result.code, 0, result.output);
    }
  });

  it("`sio-gateway nginx` writes a config; bad input exits 2 naming the option", async () => {
    const out = join(prefix, "cli.conf");
    const written = await runCli(["nginx", "--upstream", "127.0.0.1:3001,127.0.0.1:3002", "--full", "--listen", "18082", "--out", out]);
    assert.equal(written.code, 0, written.stderr);
    assert.equal(nginxTest(prefix, out).code, 0);
    const cases: [string[], RegExp][] = [
      [["nginx"], /^sio-gateway: invalid option "upstream": expected at least one HOST:PORT, got ""\n$/],
      [
        ["nginx", "--upstream", "127.0.0.1:99999"],
        /^sio-gateway: invalid option "upstream": expected HOST:PORT with a port from 1 to 65535, got "127.0.0.1:99999"\n$/,
      ],
      [["nginx", "--upstream", "a:1", "--listen", "eighty"], /^sio-gateway: invalid option "listen": expected a port number from 1 to 65535, got "eighty"\n$/],
      [["nginx", "--upstream", "a:1", "--balance", "least_conn"], /^sio-gateway: invalid option "balance": expected ip_hash or hash, got "least_conn"\n$/],
    ];
    for (const [args, expected] of cases) {
      const result = await runCli(args);
      assert.equal(result.code, 2, args.join(" "));
      assert.match(result.stderr, expected);
    }
  });
});

interface Topology {
  name: string;
  balance: "ip_hash" | "hash";
  /** Extra flags for each node, and its upstream addresses. */
  node(index: number): Promise<{ flags: string[]; upstreams(gateway: GatewayProcess): string[] }>;
  /** True when the worker index a client lands on must be the hash of its forwarded IP. */
  routesByForwardedIp: boolean;
}

const TOPOLOGIES: Topology[] = [
  {
    name: "nginx → two nodes' public ports (each primary hashes the forwarded client IP)",
    balance: "ip_hash",
    routesByForwardedIp: true,
    node: () => Promise.resolve({ flags: ["--trust-proxy", "127.0.0.1"], upstreams: (gateway: GatewayProcess) => [`127.0.0.1:${gateway.port}`] }),
  },
  {
    name: "nginx → every worker's own port (--worker-port-base)",
    balance: "hash",
    routesByForwardedIp: false,
    node: async () => {
      const base = await freePortRange(2);
      return { flags: ["--worker-port-base", String(base)], upstreams: () => [`127.0.0.1:${base}`, `127.0.0.1:${base + 1}`] };
    },
  },
];

for (const topology of TOPOLOGIES) {
  describe(topology.name, () => {
    let redis: RedisServer;
    const nodes: GatewayProcess[] = [];
    let nginx: NginxServer;
    let nodeOfPid: Map<number, number>;

    before(async () => {
      redis = await RedisServer.start();
      const upstreams: string[] = [];
      for (const index of [0, 1]) {
        const node = await topology.node(index);
        const gateway = await GatewayProcess.start(["--workers", "2", "--redis", redis.url, ...node.flags]);
        nodes.push(gateway);
        upstreams.push(...node.upstreams(gateway));
      }
      nodeOfPid = new Map(nodes.flatMap((node, index) => node.workerPids().map((pid) => [pid, index] as [number, number])));
      nginx = await NginxServer.start({ upstreams, balance: topology.balance });
    });
    after(async () => {
      await nginx.stop();
      const results = await Promise.all(nodes.map((node) => node.stop()));
      await redis.stop();
      for (const result of results) assert.equal(result.code, 0, result.stderr);
    });

    it("clients on polling, WebSocket and the upgrade path stick to one node and one worker across reconnects, spread over both nodes", async () => {
      const nodesSeen = new Set<number>();
      for (const transports of [["polling"], ["websocket"], ["polling", "websocket"]] as ("polling" | "websocket")[][]) {
        for (const localAddress of CLIENT_IPS) {
          const first = await connectClient(nginx.url, { localAddress, transports });
          const node = nodeOfPid.get(first.hello.pid);
          assert.notEqual(node, undefined, `pid ${first.hello.pid} is no gateway worker`);
          nodesSeen.add(node!);
          if (topology.routesByForwardedIp)
            assert.equal(first.hello.worker, slotForIp(localAddress, 2), `${localAddress}: the node must route by the forwarded IP`);
          const whoami = await request<{ pid: number }>(first.socket, "whoami");
          assert.equal(whoami.pid, first.hello.pid);
          first.close();
          const again = await connectClient(nginx.url, { localAddress, transports });
          assert.equal(again.hello.pid, first.hello.pid, `${localAddress} (${transports.join("+")}) moved after a reconnect`);
          again.close();
        }
      }
      assert.deepEqual([...nodesSeen].sort(), [0, 1]);
    });

    it("a chat in a room reaches members on both nodes", async () => {
      const clients: TestClient[] = [];
      try {
        for (const localAddress of CLIENT_IPS) clients.push(await connectClient(nginx.url, { localAddress }));
        assert.deepEqual([...new Set(clients.map((client) => nodeOfPid.get(client.hello.pid)))].sort(), [0, 1]);
        for (const [index, client] of clients.entries()) {
          const joined = await request<{ members: number }>(client.socket, "join", "edge");
          assert.equal(joined.members, index + 1);
        }
        const inboxes = clients.map((client) => new Inbox(client.socket));
        assert.deepEqual(await request(clients[0].socket, "chat", { room: "edge", text: "through nginx" }), { ok: true });
        for (const inbox of inboxes) {
          const [[message]] = (await inbox.waitFor("chat")) as [[{ text: string }]];
          assert.equal(message.text, "through nginx");
        }
      } finally {
        for (const client of clients) client.close();
      }
    });
  });
}
