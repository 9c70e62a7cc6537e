import { generateNginxConfig, type NginxBalance } from "../nginx/index.js";
import { integerFlag, listFlag, noArguments, parseCommandArgs, stringFlag } from "./args.js";
import type { Command } from "./command.js";
import { edgeSettingsFromApp } from "./edge-app.js";
import { nofileHardLimit } from "./nofile-limit.js";
import { writeOutput } from "./output.js";

export const nginxCommand: Command = {
  name: "nginx",
  summary: "print an Nginx config for fronting gateway nodes (passes nginx -t)",
  usage: "nginx --upstream HOST:PORT[,HOST:PORT...] [options]",
  notes: [
    "Without --server-name the server is default_server: on a distribution whose default site is enabled",
    "on the same port, give --server-name (or disable that site); see docs/deploy.md.",
  ],
  flags: {
    upstream: {
      kind: "list",
      value: "HOST:PORT",
      description: "gateway nodes' public ports, or every worker's port (repeat or comma-separate)",
      defaultText: "none: required",
    },
    listen: { kind: "string", value: "PORT", description: "port nginx listens on", defaultText: "80; 443 with TLS; 8080/8443 with --full" },
    "server-name": { kind: "string", value: "NAME", description: "server_name (space-free); without it the server is default_server", defaultText: "_ (any)" },
    balance: { kind: "string", value: "ip_hash|hash", description: "ip_hash (IPv4 /24) or hash $remote_addr consistent", defaultText: "ip_hash" },
    "tls-cert": { kind: "string", value: "FILE", description: "TLS certificate: listen with ssl, redirect plain HTTP", defaultText: "none" },
    "tls-key": { kind: "string", value: "FILE", description: "TLS private key (with --tls-cert)", defaultText: "none" },
    "http-redirect-port": {
      kind: "string",
      value: "PORT",
      description: "with TLS: plain-HTTP port redirecting to HTTPS (0: none)",
      defaultText: "80; 8080 with --full",
    },
    "no-ipv6": { kind: "boolean", description: "do not listen on [::] (hosts without IPv6)" },
    app: {
      kind: "string",
      value: "MODULE",
      description: "app module: path, ping interval + timeout and body limit from its `options` export",
      defaultText: "Socket.IO's defaults",
    },
    "max-header-size": { kind: "string", value: "BYTES", description: "the gateway's --max-header-size: nginx's header line limit", defaultText: "16384" },
    full: { kind: "boolean", description: "a complete nginx.conf a non-root user runs with nginx -p DIR -c FILE" },
    out: { kind: "string", value: "FILE", description: "write here instead of stdout", defaultText: "stdout" },
  },
  async run(args) {
    const { values, positionals } = parseCommandArgs("nginx", args, this.flags);
    noArguments("nginx", positionals);
    const app = stringFlag(values, "app");
    const settings = app === undefined ? undefined : await edgeSettingsFromApp(app);
    const full = values.full === true;
    const config = generateNginxConfig({
      upstreams: listFlag(values, "upstream"),
      listen: integerFlag(values, "listen", 1, 65535, "a port number from 1 to 65535"),
      serverName: stringFlag(values, "server-name"),
      balance: stringFlag(values, "balance") as NginxBalance | undefined,
      full,
      tlsCert: stringFlag(values, "tls-cert"),
      tlsKey: stringFlag(values, "tls-key"),
      httpRedirectPort: integerFlag(values, "http-redirect-port", 0, 65535, "a port number from 0 to 65535"),
      ipv6: values["no-ipv6"] !== true,
      maxHeaderSize: integerFlag(values, "max-header-size", 256, 1 << 20, "a size in bytes from 256 to 1048576"),
      socketPath: settings?.path,
      pingInterval: settings?.pingInterval,
      pingTimeout: settings?.pingTimeout,
      maxBodySize: settings?.maxHttpBufferSize,
      // The user who generates a --full config is usually the one who runs it: stay within their hard limit.
      nofileHardLimit: full ? nofileHardLimit() : undefined,
    });
    writeOutput(config, stringFlag(values, "out"));
  },
};
