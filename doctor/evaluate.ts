import type { HostReadings } from "./readings.js";

/** One row of the doctor's table. */
export interface Check {
  setting: string;
  /** What the host has now, as shown. */
  now: string;
  /** What `connections` need, as shown. */
  needed: string;
  ok: boolean;
  /** The command that sets it (as root), or what to do. */
  howToSet: string;
}

/** The primary listens with this backlog (gateway/primary.ts); a smaller somaxconn silently caps it. */
const PRIMARY_BACKLOG = 4096;
/** File descriptors a process needs besides its connections (modules, logs, Redis, IPC). */
const FD_HEADROOM = 1024;
/** Ephemeral ports one proxy → node destination (IP:port) can use at most. */
const MAX_PORTS_PER_DESTINATION = 64_511;

function shown(value: number | undefined): string {
  if (value === undefined) return "unknown";
  return value === Infinity ? "unlimited" : String(value);
}

/**
 * What `connections` concurrent clients need of a host that runs the edge (nginx or HAProxy:
 * one descriptor toward the client, one toward the node, one conntrack entry each) and the
 * gateway (one descriptor per client in some worker). Pure: the readings come in, rows go out.
 */
export function evaluateHost(readings: HostReadings, connections: number): Check[] {
  const perProcess = connections + FD_HEADROOM;
  const systemWide = 3 * connections + 65_536;
  const conntrack = 2 * connections;
  const buckets = Math.ceil(conntrack / 4);
  const ports = readings.localPortRange ? readings.localPortRange[1] - readings.localPortRange[0] + 1 : undefined;
  const portsNeeded = Math.min(connections, MAX_PORTS_PER_DESTINATION);
  const checks: Check[] = [
    {
      setting: `open files per process (ulimit -n${readings.openFilesOf && readings.openFilesOf !== "this shell" ? ` of ${readings.openFilesOf}` : ""})`,
      now: shown(readings.openFiles),
      needed: `>= ${perProcess}`,
      ok: readings.openFiles !== undefined && readings.openFiles >= perProcess,
      howToSet: `ulimit -n ${perProcess} before starting, or LimitNOFILE=${perProcess} in the systemd unit`,
    },
    {
      setting: "fs.file-max",
      now: shown(readings.fileMax),
      needed: `>= ${systemWide}`,
      ok: readings.fileMax !== undefined && readings.fileMax >= systemWide,
      howToSet: `sysctl -w fs.file-max=${systemWide}`,
    },
    {
      setting: "net.core.somaxconn",
      now: shown(readings.somaxconn),
      needed: `>= ${PRIMARY_BACKLOG}`,
      ok: readings.somaxconn !== undefined && readings.somaxconn >= PRIMARY_BACKLOG,
      howToSet: `sysctl -w net.core.somaxconn=${PRIMARY_BACKLOG}`,
    },
    {
      setting: "net.ipv4.tcp_max_syn_backlog",
      now: shown(readings.synBacklog),
      needed: `>= ${PRIMARY_BACKLOG}`,
      ok: readings.synBacklog !== undefined && readings.synBacklog >= PRIMARY_BACKLOG,
      howToSet: `sysctl -w net.ipv4.tcp_max_syn_backlog=${PRIMARY_BACKLOG}`,
    },
    {
      setting: "net.ipv4.ip_local_port_range",
      now: readings.localPortRange ? `${readings.localPortRange[0]} ${readings.localPortRange[1]} (${ports} ports)` : "unknown",
      needed:
        connections > MAX_PORTS_PER_DESTINATION
          ? `>= ${portsNeeded} ports and ${Math.ceil(connections / MAX_PORTS_PER_DESTINATION)} node destinations`
          : `>= ${portsNeeded} ports`,
      ok: ports !== undefined && ports >= portsNeeded && connections <= MAX_PORTS_PER_DESTINATION,
      howToSet:
        connections > MAX_PORTS_PER_DESTINATION
          ? 'sysctl -w net.ipv4.ip_local_port_range="1024 65535", and list each node several times on different ports (--worker-port-base)'
          : 'sysctl -w net.ipv4.ip_local_port_range="1024 65535"',
    },
  ];
  checks.push(...nginxWorkerChecks(readings, connections), ...selinuxChecks(readings));
  if (readings.conntrackMax === undefined) {
    checks.push({
      setting: "net.netfilter.nf_conntrack_max",
      now: "module not loaded",
      needed: "no limit while not loaded",
      ok: true,
      howToSet: "nothing to do (if a firewall loads it later, run the doctor again)",
    });
  } else {
    checks.push(
      {
        setting: "net.netfilter.nf_conntrack_max",
        now: shown(readings.conntrackMax),
        needed: `>= ${conntrack}`,
        ok: readings.conntrackMax >= conntrack,
        howToSet: `sysctl -w net.netfilter.nf_conntrack_max=${conntrack}`,
      },
      {
        setting: "nf_conntrack buckets (hashsize)",
        now: shown(readings.conntrackBuckets),
        needed: `>= ${buckets}`,
        ok: readings.conntrackBuckets !== undefined && readings.conntrackBuckets >= buckets,
        howToSet: `echo ${buckets} > /sys/module/nf_conntrack/parameters/hashsize`,
      },
    );
  }
  // A row that is fine needs nothing done: its "how to set" would only ever name the needed value,
  // which can be below what the host has (fs.file-max 2466160 -> 95536): never print that.
  return checks.map((check) => (check.ok && !check.howToSet.startsWith("nothing to do") ? { ...check, howToSet: "nothing to do" } : check));
}

/** nginx workers each hold two descriptors per client (client side, upstream side), and share the clients. */
function nginxWorkerChecks(readings: HostReadings, connections: number): Check[] {
  const workers = readings.nginxWorkers ?? [];
  if (workers.length === 0) return [];
  const perWorker = Math.ceil((2 * connections) / workers.length) + FD_HEADROOM;
  const lowest = Math.min(...workers.map((worker) => worker.openFiles));
  return [
    {
      setting: `nginx worker open files (${workers.length} workers)`,
      now: shown(lowest),
      needed: `>= ${perWorker}`,
      ok: lowest >= perWorker,
      howToSet: `worker_rlimit_nofile ${perWorker}; in nginx.conf (and LimitNOFILE=${perWorker} in nginx.service), then reload nginx`,
    },
  ];
}

/**
 * SELinux confines nginx and HAProxy (httpd_t): without httpd_can_network_connect they may not
 * connect to the gateway's ports, and every proxied request gets 502 (RHEL, Fedora, Rocky, Alma).
 */
function selinuxChecks(readings: HostReadings): Check[] {
  if (readings.selinux === undefined) return [];
  const enforcing = readings.selinux === "enforcing";
  const rows: Check[] = [
    {
      setting: "SELinux (getenforce)",
      now: readings.selinux,
      needed: "any (enforcing needs the boolean below)",
      ok: true,
      howToSet: "nothing to do",
    },
  ];
  if (readings.selinux !== "disabled") {
    const on = readings.httpdCanNetworkConnect;
    rows.push({
      setting: "SELinux httpd_can_network_connect",
      now: on === undefined ? "unknown" : on ? "on" : "off",
      needed: enforcing ? "on (a proxy may connect to the gateway)" : "on before enforcing",
      // Permissive mode only logs denials: not a failure yet, but say what enforcing will need.
      ok: on === true || !enforcing,
      howToSet: "setsebool -P httpd_can_network_connect 1 (lets nginx/HAProxy reach upstream ports; -P keeps it across reboots)",
    });
  }
  return rows;
}

/** The checks as an aligned text table. */
export function formatChecks(checks: Check[], connections: number): string {
  const rows = [
    ["setting", "now", "needed", "", "how to set it"],
    ...checks.map((check) => [check.setting, check.now, check.needed, check.ok ? "ok" : "LOW", check.howToSet]),
  ];
  const widths = rows[0].map((_, column) => Math.max(...rows.map((row) => row[column].length)));
  const lines = rows.map((row) => row.map((cell, column) => (column === row.length - 1 ? cell : cell.padEnd(widths[column]))).join("  "));
  const low = checks.filter((check) => !check.ok).length;
  return `host limits for ${connections} concurrent connections\n\n${lines.join("\n")}\n\n${low === 0 ? "all sufficient" : `${low} setting(s) too low`}\n`;
}
