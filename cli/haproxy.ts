import { generateHaproxyConfig, type HaproxyBalance } from "../haproxy/index.js";
import { integerFlag, listFlag, noArguments, parseCommandArgs, stringFlag } from "./args.js";
import type { Command } from "./command.js";
import { edgeSettingsFromApp } from "./edge-app.js";
import { writeOutput } from "./output.js";

export const haproxyCommand: Command = {
  name: "haproxy",
  summary: "print an HAProxy config for fronting gateway nodes (passes haproxy -c)",
  usage: "haproxy --upstream HOST:PORT[,HOST:PORT...] [options]",
  notes: ["Drain a node through the runtime API: echo 'set server sio_gateway_nodes/node1 state drain' | socat stdio SOCKET (docs/deploy.md)."],
  flags: {
    upstream: { kind: "list", value: "HOST:PORT", description: "gateway nodes' public ports (repeat or comma-separate)", defaultText: "none: required" },
    listen: { kind: "string", value: "PORT", description: "public port", defaultText: "80; 443 with TLS; 8080/8443 with --full" },
    balance: {
      kind: "string",
      value: "source|cookie",
      description: "source (consistent hash of the address) or cookie (HAProxy's node cookie)",
      defaultText: "source",
    },
    "cookie-name": { kind: "string", value: "NAME", description: "the node cookie in cookie mode", defaultText: "SIO_NODE" },
    "tls-cert": { kind: "string", value: "PEM", description: "certificate and key in one PEM: listen with TLS, redirect plain HTTP", defaultText: "none" },
    "http-redirect-port": {
      kind: "string",
      value: "PORT",
      description: "with TLS: plain-HTTP port redirecting to HTTPS (0: none)",
      defaultText: "80; 8080 with --full",
    },
    stats: { kind: "string", value: "USER:PASSWORD", description: "credentials for the stats page", defaultText: "none" },
    "stats-listen": { kind: "string", value: "ADDR:PORT", description: "internal stats listener (page and CSV)", defaultText: "127.0.0.1:8404" },
    "stats-socket": { kind: "string", value: "PATH", description: "with --full: the runtime API socket (drain, disable)", defaultText: "haproxy-admin.sock" },
    "check-interval": { kind: "string", value: "MS", description: "interval of the /readyz health check", defaultText: "2000" },
    maxconn: { kind: "string", value: "N", description: "global maxconn (about 2 file descriptors each)", defaultText: "derived from ulimit -n" },
    app: {
      kind: "string",
      value: "MODULE",
      description: "app module: ping interval + timeout and body limit from its `options` export",
      defaultText: "Socket.IO's defaults",
    },
    "max-header-size": { kind: "string", value: "BYTES", description: "the gateway's --max-header-size: HAProxy's buffer size", defaultText: "16384" },
    full: { kind: "boolean", description: "a complete haproxy.cfg any user runs with haproxy -f FILE" },
    out: { kind: "string", value: "FILE", description: "write here instead of stdout", defaultText: "stdout" },
  },
  async run(args) {
    const { values, positionals } = parseCommandArgs("haproxy", args, this.flags);
    noArguments("haproxy", positionals);
    const app = stringFlag(values, "app");
    const settings = app === undefined ? undefined : await edgeSettingsFromApp(app);
    const config = generateHaproxyConfig({
      upstreams: listFlag(values, "upstream"),
      listen: integerFlag(values, "listen", 1, 65535, "a port number from 1 to 65535"),
      balance: stringFlag(values, "balance") as HaproxyBalance | undefined,
      cookieName: stringFlag(values, "cookie-name"),
      tlsCert: stringFlag(values, "tls-cert"),
      httpRedirectPort: integerFlag(values, "http-redirect-port", 0, 65535, "a port number from 0 to 65535"),
      stats: stringFlag(values, "stats"),
      statsListen: stringFlag(values, "stats-listen"),
      statsSocket: stringFlag(values, "stats-socket"),
      checkInterval: integerFlag(values, "check-interval", 100, 24 * 3600 * 1000, "a duration in ms (integer >= 100)"),
      maxconn: integerFlag(values, "maxconn", 1, 100_000_000, "a positive integer"),
      maxHeaderSize: integerFlag(values, "max-header-size", 256, 1 << 20, "a size in bytes from 256 to 1048576"),
      heartbeat: settings === undefined ? undefined : settings.pingInterval + settings.pingTimeout,
      maxBodySize: settings?.maxHttpBufferSize,
      full: values.full === true,
    });
    writeOutput(config, stringFlag(values, "out"));
  },
};
