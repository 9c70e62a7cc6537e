import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/**
 * The package's version, from its package.json: the nearest one above this file named
 * sio-gateway (under dist/ when built, the source tree when run with tsx). Shared by the CLI
 * (--version) and the primary (sio_gateway_build_info).
 */
export function packageVersion(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let depth = 0; depth < 5; depth++) {
    try {
      const manifest = JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as { name?: string; version?: string };
      if (manifest.name === "sio-gateway" && typeof manifest.version === "string") return manifest.version;
    } catch {
      // no package.json here: look one level up
    }
    dir = dirname(dir);
  }
  return "unknown";
}
