/**
 * The Redis targets `--redis` (and the emitter, and `sio-gateway emit`) accept, parsed:
 *   redis://[user:pass@]host[:port][/db]            one server
 *   rediss://…                                      the same over TLS
 *   redis-sentinel://[user:pass@]host:port[,host:port…]/master-name   a Sentinel-managed primary
 *   rediss-sentinel://…                             the same, TLS to Redis and the sentinels
 *   redis-cluster://[user:pass@]host:port[,host:port…][?pubsub=sharded|plain]   a Redis Cluster
 *   rediss-cluster://…                              the same over TLS
 * The password applies to every server of the set (and to the sentinels). On a Cluster, pub/sub
 * is sharded (SPUBLISH, Redis ≥ 7) when every primary supports it unless `?pubsub=` says otherwise.
 */
export interface RedisNode {
  host: string;
  port: number;
}

/** How broadcasts travel on a Cluster: `auto` is sharded when every primary runs Redis ≥ 7. */
export type PubSubChoice = "auto" | "sharded" | "plain";

interface Credentials {
  username?: string;
  password?: string;
  tls: boolean;
}

export type RedisTarget =
  | { kind: "single"; url: string }
  | ({ kind: "sentinel"; sentinels: RedisNode[]; name: string } & Credentials)
  | ({ kind: "cluster"; nodes: RedisNode[]; pubsub: PubSubChoice } & Credentials);

// scheme, user, password, host list, then the master name (Sentinel) or the query (Cluster).
const SENTINEL = /^(rediss?)-sentinel:\/\/(?:([^:@/]*)(?::([^@/]*))?@)?([^/?#@]+)\/([^/?#]+)\/?$/;
const CLUSTER = /^(rediss?)-cluster:\/\/(?:([^:@/]*)(?::([^@/]*))?@)?([^/?#@]+)\/?(?:\?pubsub=(sharded|plain|auto))?$/;

/** `host:port,host:port` (IPv6 in brackets), or undefined when any entry is not one. */
function parseNodeList(list: string): RedisNode[] | undefined {
  const nodes: RedisNode[] = [];
  for (const entry of list.split(",")) {
    const match = /^([^:,\s]+|\[[0-9a-fA-F:.]+\]):(\d{1,5})$/.exec(entry.trim());
    if (!match || Number(match[2]) < 1 || Number(match[2]) > 65535) return undefined;
    nodes.push({ host: match[1].replace(/^\[|\]$/g, ""), port: Number(match[2]) });
  }
  return nodes;
}

function credentials(scheme: string, username: string | undefined, password: string | undefined): Credentials {
  const decode = (value: string | undefined) => (value ? decodeURIComponent(value) : undefined);
  return { username: decode(username), password: decode(password), tls: scheme === "rediss" };
}

/** The target a URL names, or undefined when it is none of the accepted forms. */
export function parseRedisTarget(raw: string): RedisTarget | undefined {
  const url = raw.trim();
  const sentinel = SENTINEL.exec(url);
  if (sentinel) {
    const sentinels = parseNodeList(sentinel[4]);
    if (!sentinels) return undefined;
    return { kind: "sentinel", sentinels, name: decodeURIComponent(sentinel[5]), ...credentials(sentinel[1], sentinel[2], sentinel[3]) };
  }
  const cluster = CLUSTER.exec(url);
  if (cluster) {
    const nodes = parseNodeList(cluster[4]);
    if (!nodes) return undefined;
    return { kind: "cluster", nodes, pubsub: (cluster[5] as PubSubChoice | undefined) ?? "auto", ...credentials(cluster[1], cluster[2], cluster[3]) };
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
  const list = (nodes: RedisNode[]) => nodes.map((node) => `${node.host}:${node.port}`).join(",");
  const scheme = (kind: string, tls: boolean) => `${tls ? "rediss" : "redis"}-${kind}://`;
  if (target.kind === "sentinel") return `${scheme("sentinel", target.tls)}${list(target.sentinels)}/${target.name}`;
  if (target.kind === "cluster") return `${scheme("cluster", target.tls)}${list(target.nodes)}`;
  const parsed = new URL(target.url);
  return `${parsed.protocol}//${parsed.hostname}:${parsed.port || "6379"}`;
}
