import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { evaluateHost, formatChecks, readHost, type HostReadings } from "../../doctor/index.js";

const ROOMY: HostReadings = {
  openFiles: 1_048_576,
  fileMax: 9_000_000,
  somaxconn: 65_535,
  synBacklog: 65_535,
  localPortRange: [1024, 65535],
  conntrackMax: 2_000_000,
  conntrackBuckets: 524_288,
};

describe("sio-gateway doctor", () => {
  it("passes a host with room for 100,000 connections", () => {
    const checks = evaluateHost(ROOMY, 50_000);
    assert.ok(
      checks.every((check) => check.ok),
      JSON.stringify(checks.filter((check) => !check.ok)),
    );
    assert.match(formatChecks(checks, 50_000), /all sufficient\n$/);
  });

  it("flags what is too low, says what is needed and how to set it", () => {
    const tight: HostReadings = { ...ROOMY, openFiles: 1024, somaxconn: 128, localPortRange: [32768, 60999], conntrackMax: 65_536, conntrackBuckets: 16_384 };
    const checks = evaluateHost(tight, 50_000);
    const low = Object.fromEntries(checks.filter((check) => !check.ok).map((check) => [check.setting, check]));
    assert.deepEqual(
      Object.keys(low).sort(),
      [
        "net.core.somaxconn",
        "net.ipv4.ip_local_port_range",
        "net.netfilter.nf_conntrack_max",
        "nf_conntrack buckets (hashsize)",
        "open files per process (ulimit -n)",
      ].sort(),
    );
    assert.equal(low["open files per process (ulimit -n)"].needed, ">= 51024");
    assert.match(low["net.core.somaxconn"].howToSet, /^sysctl -w net\.core\.somaxconn=4096$/);
    assert.equal(low["net.netfilter.nf_conntrack_max"].needed, ">= 100000");
    assert.match(formatChecks(checks, 50_000), /5 setting\(s\) too low\n$/);
  });

  it("treats a conntrack module that is not loaded as no limit", () => {
    const checks = evaluateHost({ ...ROOMY, conntrackMax: undefined, conntrackBuckets: undefined }, 10_000);
    const conntrack = checks.filter((check) => check.setting.includes("conntrack"));
    assert.equal(conntrack.length, 1);
    assert.equal(conntrack[0].now, "module not loaded");
    assert.ok(conntrack[0].ok);
  });

  it("says more node destinations are needed past one destination's ephemeral ports", () => {
    const ports = evaluateHost(ROOMY, 200_000).find((check) => check.setting === "net.ipv4.ip_local_port_range")!;
    assert.equal(ports.ok, false);
    assert.match(ports.needed, /4 node destinations/);
  });

  it("counts unknown readings as not sufficient", () => {
    const checks = evaluateHost({ ...ROOMY, fileMax: undefined }, 1000);
    const fileMax = checks.find((check) => check.setting === "fs.file-max")!;
    assert.deepEqual([fileMax.now, fileMax.ok], ["unknown", false]);
  });

  it("never prints a command that would lower a healthy limit (fs.file-max 2466160, conntrack 262144)", () => {
    const big: HostReadings = { ...ROOMY, fileMax: 2_466_160, conntrackMax: 262_144 };
    const checks = evaluateHost(big, 10_000);
    for (const check of checks.filter((c) => c.ok)) assert.match(check.howToSet, /^nothing to do/, `${check.setting}: ${check.howToSet}`);
    // Where a row is low, every number it suggests is above what the host has.
    const low = evaluateHost({ ...ROOMY, openFiles: 1024, fileMax: 50_000 }, 10_000).filter((check) => !check.ok);
    for (const check of low) {
      const current = Number(check.now);
      for (const suggested of check.howToSet.match(/\d{4,}/g) ?? [])
        assert.ok(Number(suggested) > current, `${check.setting}: ${check.howToSet} vs ${check.now}`);
    }
  });

  it("SELinux enforcing with httpd_can_network_connect off: LOW, with the setsebool fix", () => {
    const rows = evaluateHost({ ...ROOMY, selinux: "enforcing", httpdCanNetworkConnect: false }, 1000).filter((check) => check.setting.startsWith("SELinux"));
    assert.deepEqual(
      rows.map((row) => [row.setting, row.now, row.ok]),
      [
        ["SELinux (getenforce)", "enforcing", true],
        ["SELinux httpd_can_network_connect", "off", false],
      ],
    );
    assert.match(rows[1].howToSet, /^setsebool -P httpd_can_network_connect 1/);
    assert.match(formatChecks(evaluateHost({ ...ROOMY, selinux: "enforcing", httpdCanNetworkConnect: false }, 1000), 1000), /1 setting\(s\) too low/);
  });

  it("SELinux enforcing with the boolean on, permissive, disabled, absent", () => {
    const selinuxRows = (readings: Partial<HostReadings>) =>
      evaluateHost({ ...ROOMY, ...readings }, 1000).filter((check) => check.setting.startsWith("SELinux"));
    assert.ok(selinuxRows({ selinux: "enforcing", httpdCanNetworkConnect: true }).every((row) => row.ok));
    const permissive = selinuxRows({ selinux: "permissive", httpdCanNetworkConnect: false });
    assert.ok(
      permissive.every((row) => row.ok),
      "permissive only logs denials",
    );
    assert.match(permissive[1].needed, /on before enforcing/);
    assert.deepEqual(
      selinuxRows({ selinux: "disabled" }).map((row) => row.setting),
      ["SELinux (getenforce)"],
    );
    assert.deepEqual(selinuxRows({}), [], "no SELinux on the host: no rows");
  });

  it("checks running nginx workers' open-files limit against their share of the connections", () => {
    const workers = [
      { pid: 10, openFiles: 1024 },
      { pid: 11, openFiles: 65_536 },
    ];
    const row = evaluateHost({ ...ROOMY, nginxWorkers: workers }, 20_000).find((check) => check.setting.startsWith("nginx worker"))!;
    assert.deepEqual([row.setting, row.now, row.needed, row.ok], ["nginx worker open files (2 workers)", "1024", ">= 21024", false]);
    assert.match(row.howToSet, /^worker_rlimit_nofile 21024;/);
    assert.equal(
      evaluateHost(ROOMY, 20_000).some((check) => check.setting.startsWith("nginx worker")),
      false,
    );
  });

  it("--pid reads a running process's open-files limit, and says whose it is", () => {
    const readings = readHost({ pid: process.pid });
    assert.equal(readings.openFilesOf, `pid ${process.pid}`);
    assert.ok(readings.openFiles !== undefined && readings.openFiles > 0);
    assert.match(evaluateHost(readings, 10)[0].setting, new RegExp(`^open files per process \\(ulimit -n of pid ${process.pid}\\)$`));
  });
});
