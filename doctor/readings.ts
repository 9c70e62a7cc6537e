import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";

/**
 * The host limits that decide how many connections a gateway host can hold, read from /proc,
 * /sys and the SELinux tools. Read only: `sio-gateway doctor` never changes the host.
 */
export interface HostReadings {
  /** Soft limit of open files of the gateway (`--pid`) or of processes started like this one (`ulimit -n`). */
  openFiles: number | undefined;
  /** Whose open-files limit `openFiles` is: "this shell" or "pid N". */
  openFilesOf?: string;
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
  /** `getenforce`: undefined when SELinux is absent (no tools, no /sys/fs/selinux). */
  selinux?: "enforcing" | "permissive" | "disabled";
  /** `getsebool httpd_can_network_connect`: may nginx/HAProxy (httpd_t) connect to the gateway's ports. */
  httpdCanNetworkConnect?: boolean;
  /** Running nginx worker processes and their soft open-files limits. */
  nginxWorkers?: { pid: number; openFiles: number }[];
}

function readNumber(path: string): number | undefined {
  try {
    const value = Number(readFileSync(path, "utf8").trim().split(/\s+/)[0]);
    return Number.isFinite(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

/** The soft "Max open files" of a process, from /proc/PID/limits ("unlimited" counts as infinite). */
export function openFilesLimit(pid: number | "self"): number | undefined {
  try {
    const line = readFileSync(`/proc/${pid}/limits`, "utf8")
      .split("\n")
      .find((l) => l.startsWith("Max open files"));
    const soft = line?.slice("Max open files".length).trim().split(/\s+/)[0];
    return soft === "unlimited" ? Infinity : soft === undefined ? undefined : Number(soft);
  } catch {
    return undefined;
  }
}

/** A command's trimmed stdout, or undefined when it is not installed or fails. */
function commandOutput(command: string, args: string[]): string | undefined {
  const result = spawnSync(command, args, { encoding: "utf8", timeout: 5000 });
  return result.status === 0 ? result.stdout.trim() : undefined;
}

/** SELinux mode and the boolean a proxy needs: from getenforce/getsebool, or absent. */
export function readSelinux(): Pick<HostReadings, "selinux" | "httpdCanNetworkConnect"> {
  const mode = commandOutput("getenforce", [])?.toLowerCase();
  if (mode !== "enforcing" && mode !== "permissive" && mode !== "disabled") return {};
  const bool = commandOutput("getsebool", ["httpd_can_network_connect"]);
  return { selinux: mode, httpdCanNetworkConnect: bool === undefined ? undefined : / on$/.test(bool) };
}

/** nginx worker processes ("nginx: worker process" in their command line) and their limits. */
function readNginxWorkers(): { pid: number; openFiles: number }[] {
  const workers: { pid: number; openFiles: number }[] = [];
  let entries: string[];
  try {
    entries = readdirSync("/proc").filter((name) => /^\d+$/.test(name));
  } catch {
    return workers;
  }
  for (const name of entries.slice(0, 100_000)) {
    try {
      if (!readFileSync(`/proc/${name}/cmdline`, "utf8").startsWith("nginx: worker process")) continue;
      const openFiles = openFilesLimit(Number(name));
      if (openFiles !== undefined) workers.push({ pid: Number(name), openFiles });
    } catch {
      // the process ended while we looked
    }
  }
  return workers;
}

/** Reads the host. `pid`: a running gateway whose open-files limit counts (its primary; workers inherit it). */
export function readHost(options: { pid?: number } = {}): HostReadings {
  const range = (() => {
    try {
      const [low, high] = readFileSync("/proc/sys/net/ipv4/ip_local_port_range", "utf8").trim().split(/\s+/).map(Number);
      return low !== undefined && high !== undefined ? ([low, high] as [number, number]) : undefined;
    } catch {
      return undefined;
    }
  })();
  return {
    openFiles: openFilesLimit(options.pid ?? "self"),
    openFilesOf: options.pid === undefined ? "this shell" : `pid ${options.pid}`,
    fileMax: readNumber("/proc/sys/fs/file-max"),
    somaxconn: readNumber("/proc/sys/net/core/somaxconn"),
    synBacklog: readNumber("/proc/sys/net/ipv4/tcp_max_syn_backlog"),
    localPortRange: range,
    conntrackMax: readNumber("/proc/sys/net/netfilter/nf_conntrack_max"),
    conntrackBuckets: readNumber("/proc/sys/net/netfilter/nf_conntrack_buckets") ?? readNumber("/sys/module/nf_conntrack/parameters/hashsize"),
    ...readSelinux(),
    nginxWorkers: readNginxWorkers(),
  };
}
