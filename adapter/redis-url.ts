/**
 * The Redis targets `--redis` (and the emitter, and `sio-gateway emit`) accept, parsed:
 *   redis://[user:pass@]host[:port][/db]            one server
 *   rediss://…                                      the same over TLS
 *   redis-sentinel://[user:pass@]host:port[,host:port…]/master-name   a Sentinel-managed primary
 *   rediss-sentinel://…                             the same, TLS to Redis and the sentinels
 * The password applies to the Redis servers and to the sentinels.
 */
export type RedisTarget =
  | { kind: "single"; url: string }
  | { kind: "sentinel"; sentinels: { host: string; port: number }[]; name: string; username?: string; password?: string; tls: boolean };

const SENTINEL = /^(rediss?)-sentinel:\/\/(?:([^:@/]*)(?::([^@/]*))?@)?([^/?#@]+)\/([^/?#]+)\/?$/;

/** The target a URL names, or undefined when it is none of the accepted forms. */
export function parseRedisTarget(raw: string): RedisTarget | undefined {
  const url = raw.trim();
  const sentinel = SENTINEL.exec(url);
  if (sentinel) {
    const sentinels: { host: string; port: number }[] = [];
    for (const entry of sentinel[4]!.split(",")) {
      const match = /^([^:,\s]+|\[[0-9a-fA-F:.]+\]):(\d{1,5})$/.exec(entry.trim());
      if (!match || Number(match[2]) < 1 || Number(match[2]) > 65535) return undefined;
      sentinels.push({ host: match[1]!.replace(/^\[|\]$/g, ""), port: Number(match[2]) });
    }
    const decode = (value: string | undefined) => (value ? decodeURIComponent(value) : undefined);
    return { kind: "sentinel", sentinels, name: decodeURIComponent(sentinel[5]!), username: decode(sentinel[2]), password: decode(sentinel[3]), tls: sentinel[1] === "rediss" };
  }
  try {
    const parsed = new URL(url);
    if ((parsed.protocol === "redis:" || parsed.protocol === "rediss:") && parsed.hostname !== "") return { kind: "single", url };
  } catch {
    // not a URL at all
  }
  return undefined;
}

/** Where a target points, for messages (never the password). */
export function describeRedisTarget(raw: string): string {
  const target = parseRedisTarget(raw);
  if (!target) return "(invalid Redis URL)";
  if (target.kind === "sentinel") return `${target.tls ? "rediss" : "redis"}-sentinel://${target.sentinels.map((s) => `${s.host}:${s.port}`).join(",")}/${target.name}`;
  const parsed = new URL(target.url);
  return `${parsed.protocol}//${parsed.hostname}:${parsed.port || "6379"}`;
}
