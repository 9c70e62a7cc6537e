import { GatewayEmitter } from "../adapter/emitter/index.js";
import { invalidOption } from "../common/errors.js";
import { OPTION_SPECS, envNames, resolveOptions } from "../gateway/options.js";
import { integerFlag, parseCommandArgs, stringFlag } from "./args.js";
import type { Command } from "./command.js";
import { UsageError } from "./failures.js";

const REDIS_ENV = envNames(OPTION_SPECS.redis);

export const emitCommand: Command = {
  name: "emit",
  summary: "push one event into the cluster's rooms through Redis, then exit",
  usage: "emit --redis URL [--namespace /] [--to ROOM]... [--except ROOM]... EVENT [JSON]",
  notes: [
    "Delivers EVENT (with the JSON as its argument) to every matching socket in the cluster.",
    "Exit 2 for a bad command line (no Redis URL, bad JSON), 1 when Redis cannot be reached.",
  ],
  flags: {
    redis: {
      kind: "string",
      value: "URL",
      description: `the gateway's Redis (redis://, rediss://, redis-sentinel://, redis-cluster://) [env ${REDIS_ENV.prefixed}]`,
      defaultText: "none: required",
    },
    namespace: { kind: "string", value: "NSP", description: "Socket.IO namespace", defaultText: "/" },
    to: { kind: "list", value: "ROOM", description: "only sockets in this room (repeat for more)", defaultText: "every socket" },
    except: { kind: "list", value: "ROOM", description: "not sockets in these rooms", defaultText: "none" },
    timeout: { kind: "string", value: "MS", description: "ms to wait for Redis before giving up (exit 1)", defaultText: "5000" },
  },
  async run(args) {
    const { values, positionals } = parseCommandArgs("emit", args, this.flags);
    const redis = stringFlag(values, "redis") ?? (process.env[REDIS_ENV.prefixed] || process.env[REDIS_ENV.legacy] || undefined);
    if (!redis)
      throw new UsageError(`missing option "redis": expected a redis://, rediss://, redis-sentinel:// or redis-cluster:// URL (or ${REDIS_ENV.prefixed})`);
    const redisUrl = resolveOptions({ redis }).redis!;
    const timeout = integerFlag(values, "timeout", 1, 24 * 3600 * 1000, "a duration in ms (integer > 0)") ?? 5000;
    const [event, json, ...extra] = positionals;
    if (event === undefined || event === "") throw new UsageError("missing EVENT: sio-gateway emit --redis URL EVENT [JSON]");
    if (extra.length > 0) throw new UsageError(`unexpected argument "${extra[0]}" (quote the JSON as one argument)`);
    let data: unknown;
    if (json !== undefined) {
      try {
        data = JSON.parse(json);
      } catch (error) {
        throw new UsageError(invalidOption("JSON", "valid JSON for the event data", `${json.slice(0, 40)}: ${(error as Error).message}`).message);
      }
    }
    const emitter = new GatewayEmitter({ redis: redisUrl, timeout }).of(stringFlag(values, "namespace") ?? "/");
    try {
      // Room names may hold commas: one room per flag, not split.
      const target = emitter.to((values.to as string[] | undefined) ?? []).except((values.except as string[] | undefined) ?? []);
      // Errors (Redis unreachable: ERR_REDIS_UNAVAILABLE, exit 1; a reserved event name: exit 2) go to main as they are.
      const receivers = await (json === undefined ? target.emit(event) : target.emit(event, data));
      process.stdout.write(`delivered "${event}" to ${receivers} gateway process${receivers === 1 ? "" : "es"}\n`);
    } finally {
      await emitter.close();
    }
  },
};
