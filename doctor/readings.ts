import { readFileSync } from "node:fs";

/**
 * The host limits that decide how many connections a gateway host can hold, read from /proc
 * and /sys. Read only: `sio-gateway doctor` never changes the host.
 */
export interface HostReadings {
  /** Soft limit of open files for processes started like this one (`ulimit -n`). */
  openFiles: number | undefined;
  /** `fs.file-max`. */
  fileMax: number | undefined;
  /** `net.core.somaxconn`. */
  somaxconn: number | undefined;
  /** `net.ipv4.tcp_max_syn_backlog`. */
  synBacklog: number | undefined;
  /** `net.ipv4.ip_local_port_range`, as [low, high]. */
  localPortRange: [number, number] | undefined;
  /** `net.netfilter.nf_conntrack_max`; undefined when the conntrack module is not loaded. */
  conntrackMax: number | undefined;
  /** nf_conntrack hash buckets; undefined when the module is not loaded. */
  conntrackBuckets: number | undefined;
}

function readNumber(path: string): number | undefined {
  try {
    const value = Number(readFileSync(path, "utf8").trim().split(/\s+/)[0]);
    return Number.isFinite(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

/** The soft "Max open files" of this process, from /proc/self/limits ("unlimited" counts as infinite). */
function openFilesLimit(): number | undefined {
  try {
    const line = readFileSync("/proc/self/limits", "utf8")
      .split("\n")
      .find((l) => l.startsWith("Max open files"));
    const soft = line?.slice("Max open files".length).trim().split(/\s+/)[0];
    return soft === "unlimited" ? Infinity : soft === undefined ? undefined : Number(soft);
  } catch {
    return undefined;
  }
}

export function readHost(): HostReadings {
  const range = (() => {
    try {
      const [low, high] = readFileSync("/proc/sys/net/ipv4/ip_local_port_range", "utf8").trim().split(/\s+/).map(Number);
      return low !== undefined && high !== undefined ? ([low, high] as [number, number]) : undefined;
    } catch {
      return undefined;
    }
  })();
  return {
    openFiles: openFilesLimit(),
    fileMax: readNumber("/proc/sys/fs/file-max"),
    somaxconn: readNumber("/proc/sys/net/core/somaxconn"),
    synBacklog: readNumber("/proc/sys/net/ipv4/tcp_max_syn_backlog"),
    localPortRange: range,
    conntrackMax: readNumber("/proc/sys/net/netfilter/nf_conntrack_max"),
    conntrackBuckets: readNumber("/proc/sys/net/netfilter/nf_conntrack_buckets") ?? readNumber("/sys/module/nf_conntrack/parameters/hashsize"),
  };
}
