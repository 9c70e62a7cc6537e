import { execFileSync, spawn, type ChildProcess } from "node:child_process";

/**
 * A private layer-2 segment for tests: a bridge in this namespace with an address, and network
 * namespaces plugged into it by veth pairs, each with its own address. Everything is created
 * with names unique to this process and removed by `remove()`: traffic stays on these links.
 */
export class TestLan {
  readonly namespaces: string[] = [];
  private bridgeUp = false;

  /** `subnet` is the first three octets of a /24, e.g. "10.231.57". */
  constructor(
    readonly subnet: string,
    readonly bridge: string,
  ) {}

  /** The bridge's address (this namespace's side of the segment). */
  get hostAddress(): string {
    return `${this.subnet}.1`;
  }

  static ip(...args: string[]): string {
    return execFileSync("ip", args, { encoding: "utf8", timeout: 10_000 });
  }

  up(): void {
    TestLan.ip("link", "add", this.bridge, "type", "bridge");
    this.bridgeUp = true;
    TestLan.ip("addr", "add", `${this.hostAddress}/24`, "dev", this.bridge);
    TestLan.ip("link", "set", this.bridge, "up");
  }

  /** A namespace on the segment with address subnet.`host`; its interface is named `eth0`. */
  addNamespace(name: string, host: number): void {
    TestLan.ip("netns", "add", name);
    this.namespaces.push(name);
    const hostSide = `v${name}`.slice(0, 15);
    TestLan.ip("link", "add", hostSide, "type", "veth", "peer", "name", "eth0", "netns", name);
    TestLan.ip("link", "set", hostSide, "master", this.bridge, "up");
    TestLan.ip("-n", name, "addr", "add", `${this.subnet}.${host}/24`, "dev", "eth0");
    TestLan.ip("-n", name, "link", "set", "eth0", "up");
    TestLan.ip("-n", name, "link", "set", "lo", "up");
  }

  /** Whether `address` is on the namespace's eth0 now. */
  static holds(namespace: string, address: string): boolean {
    return TestLan.ip("-n", namespace, "-o", "addr", "show", "dev", "eth0").includes(` ${address}/`);
  }

  /** A command in a namespace (`ip netns exec` execs it: the child is the command itself). */
  static spawnIn(namespace: string, command: string[], cwd?: string): ChildProcess {
    return spawn("ip", ["netns", "exec", namespace, ...command], { cwd, stdio: ["ignore", "pipe", "pipe"] });
  }

  /**
   * Removes the veth pairs, the namespaces and the bridge; never throws. The veths go first,
   * by name: a namespace outlives `ip netns del` while a process (a keepalived child) is still in it.
   */
  remove(): void {
    for (const name of this.namespaces.splice(0)) {
      for (const args of [
        ["link", "del", `v${name}`.slice(0, 15)],
        ["netns", "del", name],
      ]) {
        try {
          TestLan.ip(...args);
        } catch {
          // already gone
        }
      }
    }
    if (this.bridgeUp) {
      try {
        TestLan.ip("link", "del", this.bridge);
      } catch {
        // already gone
      }
      this.bridgeUp = false;
    }
  }
}
