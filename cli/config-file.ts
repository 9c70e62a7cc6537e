import { readFileSync } from "node:fs";
import { dirname, isAbsolute, resolve } from "node:path";
import { OPTION_SPECS } from "../gateway/options.js";
import { didYouMean } from "./did-you-mean.js";
import { RuntimeFailure, UsageError } from "./failures.js";

/**
 * `--config FILE`: the options of `start` as one JSON object, keyed by option name
 * (`{"workers": 4, "redis": "redis://…", "trustProxy": ["10.0.0.0/8"]}`) or by flag
 * (`"trust-proxy"`). Values are checked later, like flags, by resolveOptions. A relative
 * `app` path is taken from the file's folder, so the file means the same from any directory.
 */
export function readConfigFile(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    // A path that does not exist is a mistyped argument (usage); one that cannot be read is the host's problem.
    if (code === "ENOENT") throw new UsageError(`config file "${file}" does not exist`);
    throw new RuntimeFailure(`cannot read config file "${file}": ${code ?? (error as Error).message}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new UsageError(`config file "${file}" is not valid JSON: ${(error as Error).message}`);
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) throw new UsageError(`config file "${file}": expected a JSON object of options`);
  const byFlag = new Map(Object.entries(OPTION_SPECS).map(([name, spec]) => [spec.flag, name]));
  const options: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(parsed)) {
    const name = Object.hasOwn(OPTION_SPECS, key) ? key : byFlag.get(key);
    if (name === undefined) {
      throw new UsageError(`config file "${file}": unknown option "${key}"${didYouMean(key, [...Object.keys(OPTION_SPECS), ...byFlag.keys()])}`);
    }
    options[name] = name === "app" && typeof value === "string" && !isAbsolute(value) ? resolve(dirname(file), value) : value;
  }
  return options;
}
