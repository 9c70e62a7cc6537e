#!/usr/bin/env node
/**
 * `sio-gateway`: one thin command-line front over the modules.
 *   sio-gateway start [options]   run the gateway (primary + workers)
 *   sio-gateway emit [options] EVENT [JSON]   push one event into the cluster through Redis
 *   sio-gateway nginx [options]   print an Nginx config for fronting gateway nodes
 *   sio-gateway haproxy [options]   print an HAProxy config for fronting gateway nodes
 *   sio-gateway doctor [--connections N] [--json]   check the host's limits (read only)
 * Bad usage exits 2 with one line on stderr naming the option.
 */
import { writeFileSync } from "node:fs";
import { evaluateHost, formatChecks, readHost } from "../doctor/index.js";
import { generateHaproxyConfig, type HaproxyBalance } from "../haproxy/index.js";
import { generateNginxConfig, type NginxBalance } from "../nginx/index.js";
import { parseCommandArgs, UsageError, type FlagKind } from "./args.js";
import { GatewayEmitter } from "../adapter/emitter/index.js";
import { GatewayError, invalidOption, RUNTIME_ERROR_CODES } from "../common/errors.js";
import { OPTION_SPECS, optionsFromEnv, resolveOptions } from "../gateway/options.js";
import { readyLine, startGateway } from "../gateway/start.js";

const EXIT_USAGE = 2;

const USAGE = `usage: sio-gateway <command> [options]

commands:
  start     run the gateway: a primary on one public port and N Socket.IO workers
  emit      sio-gateway emit --redis URL [--namespace /] [--to ROOM]... [--except ROOM]... EVENT [JSON]
            delivers EVENT (with the JSON as its argument) to every matching socket in the cluster
  nginx     sio-gateway nginx --upstream HOST:PORT[,HOST:PORT...] [--listen PORT] [--server-name NAME]
            [--balance ip_hash|hash] [--full] [--tls-cert FILE --tls-key FILE] [--out FILE]
            an Nginx config (ip_hash upstream, WebSocket headers, timeouts) that passes nginx -t
  haproxy   sio-gateway haproxy --upstream HOST:PORT[,HOST:PORT...] [--listen PORT] [--balance source|cookie]
            [--cookie-name NAME] [--stats USER:PASSWORD] [--check-interval MS] [--maxconn N] [--full] [--out FILE]
            an HAProxy config (health checks on /readyz, tunnel timeouts) that passes haproxy -c
  doctor    sio-gateway doctor [--connections N] [--json]
            the host limits (open files, somaxconn, ports, conntrack) for N connections; exit 1 if any is too low

start options (each also read from its environment variable):
${Object.values(OPTION_SPECS)
  .map((spec) => `  --${spec.flag.padEnd(20)} ${spec.env}`)
  .join("\n")}
`;

/** Prints one line and exits 2: the contract for bad usage. */
function usageError(message: string): never {
  process.stderr.write(`sio-gateway: ${message}\n`);
  process.exit(EXIT_USAGE);
}

/** Commands that take flags only: a stray argument is a usage error naming it. */
function noArguments(command: string, positionals: string[]): void {
  if (positionals.length > 0) usageError(`unexpected argument "${positionals[0]}" for "sio-gateway ${command}"`);
}

async function start(args: string[]): Promise<void> {
  const flags: Record<string, FlagKind> = Object.fromEntries(Object.values(OPTION_SPECS).map((spec) => [spec.flag, "string"]));
  const { values, positionals } = parseCommandArgs("start", args, flags);
  noArguments("start", positionals);
  const raw: Record<string, unknown> = optionsFromEnv(process.env);
  for (const [name, spec] of Object.entries(OPTION_SPECS)) {
    const value = values[spec.flag];
    if (value !== undefined) raw[name] = value;
  }
  let gateway;
  try {
    gateway = await startGateway(raw);
  } catch (error) {
    if (error instanceof GatewayError) {
      process.stderr.write(`sio-gateway: ${error.message}\n`);
      process.exit(RUNTIME_ERROR_CODES.has(error.code) ? 1 : EXIT_USAGE);
    }
    throw error;
  }
  const stop = (): void => {
    void gateway.close().then(() => process.exit(0));
  };
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
  // kill -HUP <primary pid>: new code or config of the app module, without dropping everyone at once.
  process.on("SIGHUP", () => void gateway.reload());
  process.stdout.write(`${readyLine(gateway)}\n`);
}

async function emit(args: string[]): Promise<void> {
  const { values, positionals } = parseCommandArgs("emit", args, { redis: "string", namespace: "string", to: "list", except: "list", timeout: "string" });
  const redis = (values.redis as string | undefined) ?? process.env.REDIS_URL;
  if (!redis) usageError('missing option "redis": expected a redis://, rediss://, redis-sentinel:// or redis-cluster:// URL (or REDIS_URL)');
  const redisUrl = resolveOptions({ redis }).redis!;
  const timeout = values.timeout === undefined ? 5000 : Number(values.timeout);
  if (!Number.isInteger(timeout) || timeout <= 0) usageError(invalidOption("timeout", "a duration in ms (integer > 0)", values.timeout).message);
  const [event, json, ...extra] = positionals;
  if (event === undefined || event === "") usageError("missing EVENT: sio-gateway emit --redis URL EVENT [JSON]");
  if (extra.length > 0) usageError(`unexpected argument "${extra[0]}" (quote the JSON as one argument)`);
  let data: unknown;
  if (json !== undefined) {
    try {
      data = JSON.parse(json);
    } catch (error) {
      usageError(`invalid JSON for the event data: ${(error as Error).message}`);
    }
  }
  const namespace = (values.namespace as string | undefined) ?? "/";
  const emitter = new GatewayEmitter({ redis: redisUrl, timeout }).of(namespace);
  try {
    const target = emitter.to((values.to as string[] | undefined) ?? []).except((values.except as string[] | undefined) ?? []);
    const receivers = await (json === undefined ? target.emit(event) : target.emit(event, data));
    process.stdout.write(`delivered "${event}" to ${receivers} gateway process${receivers === 1 ? "" : "es"}\n`);
  } catch (error) {
    usageError((error as Error).message);
  } finally {
    await emitter.close();
  }
}

function parsePort(value: string | undefined, name: string): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d{1,5}$/.test(value)) usageError(invalidOption(name, "a port number from 1 to 65535", value).message);
  return Number(value);
}

function nginx(args: string[]): void {
  const { values, positionals } = parseCommandArgs("nginx", args, {
    upstream: "list",
    listen: "string",
    "server-name": "string",
    balance: "string",
    full: "boolean",
    "tls-cert": "string",
    "tls-key": "string",
    out: "string",
  });
  noArguments("nginx", positionals);
  const config = generateNginxConfig({
    upstreams: upstreamList(values),
    listen: parsePort(values.listen as string | undefined, "listen"),
    serverName: values["server-name"] as string | undefined,
    balance: values.balance as NginxBalance | undefined,
    full: values.full === true,
    tlsCert: values["tls-cert"] as string | undefined,
    tlsKey: values["tls-key"] as string | undefined,
  });
  writeConfig(config, values.out);
}

function upstreamList(values: Record<string, unknown>): string[] {
  return ((values.upstream as string[] | undefined) ?? [])
    .flatMap((list) => list.split(","))
    .map((entry) => entry.trim())
    .filter(Boolean);
}

function writeConfig(config: string, out: unknown): void {
  if (out === undefined) process.stdout.write(config);
  else writeFileSync(out as string, config);
}

function haproxy(args: string[]): void {
  const { values, positionals } = parseCommandArgs("haproxy", args, {
    upstream: "list",
    listen: "string",
    balance: "string",
    "cookie-name": "string",
    stats: "string",
    "check-interval": "string",
    maxconn: "string",
    full: "boolean",
    out: "string",
  });
  noArguments("haproxy", positionals);
  const maxconn = values.maxconn as string | undefined;
  if (maxconn !== undefined && !/^\d{1,9}$/.test(maxconn)) usageError(invalidOption("maxconn", "a positive integer", maxconn).message);
  const interval = values["check-interval"] as string | undefined;
  if (interval !== undefined && !/^\d{1,9}$/.test(interval)) usageError(invalidOption("check-interval", "a duration in ms (integer >= 100)", interval).message);
  const config = generateHaproxyConfig({
    upstreams: upstreamList(values),
    listen: parsePort(values.listen as string | undefined, "listen"),
    balance: values.balance as HaproxyBalance | undefined,
    cookieName: values["cookie-name"] as string | undefined,
    stats: values.stats as string | undefined,
    checkInterval: interval === undefined ? undefined : Number(interval),
    maxconn: maxconn === undefined ? undefined : Number(maxconn),
    full: values.full === true,
  });
  writeConfig(config, values.out);
}

function doctor(args: string[]): void {
  const { values, positionals } = parseCommandArgs("doctor", args, { connections: "string", json: "boolean" });
  noArguments("doctor", positionals);
  const raw = (values.connections as string | undefined) ?? "10000";
  if (!/^\d{1,9}$/.test(raw) || Number(raw) < 1) usageError(invalidOption("connections", "a positive integer", raw).message);
  const connections = Number(raw);
  const checks = evaluateHost(readHost(), connections);
  const ok = checks.every((check) => check.ok);
  process.stdout.write(values.json === true ? `${JSON.stringify({ connections, ok, checks }, null, 2)}\n` : formatChecks(checks, connections));
  process.exitCode = ok ? 0 : 1;
}

async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  switch (command) {
    case "start":
      return start(rest);
    case "emit":
      return emit(rest);
    case "nginx":
      return nginx(rest);
    case "haproxy":
      return haproxy(rest);
    case "doctor":
      return doctor(rest);
    case undefined:
    case "help":
    case "--help":
    case "-h":
      process.stdout.write(USAGE);
      return;
    default:
      usageError(`unknown command "${command}" (expected start, emit, nginx, haproxy or doctor; see sio-gateway --help)`);
  }
}

main(process.argv.slice(2)).catch((error: Error) => {
  if (error instanceof UsageError || error instanceof GatewayError) usageError(error.message);
  process.stderr.write(`sio-gateway: ${error.stack ?? error.message}\n`);
  process.exit(1);
});
