import { readFileSync } from "node:fs";

/** The hard "Max open files" of this process (what a child such as nginx can raise its soft limit to), from /proc/self/limits; undefined when unknown or unlimited. */
export function nofileHardLimit(): number | undefined {
  try {
    const line = readFileSync("/proc/self/limits", "utf8")
      .split("\n")
      .find((l) => l.startsWith("Max open files"));
    const hard = line?.slice("Max open files".length).trim().split(/\s+/)[1];
    return hard === undefined || hard === "unlimited" ? undefined : Number(hard);
  } catch {
    return undefined;
  }
}
