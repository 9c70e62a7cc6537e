import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { evaluateHost, formatChecks, type HostReadings } from "../../doctor/index.js";

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
});
