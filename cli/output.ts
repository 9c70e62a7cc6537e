import { writeFileSync } from "node:fs";
import { RuntimeFailure } from "./failures.js";

/** Writes a generated config to `out`, or stdout without it. A file that cannot be written is one line and exit 1, not a stack trace. */
export function writeOutput(text: string, out: string | undefined): void {
  if (out === undefined) {
    process.stdout.write(text);
    return;
  }
  try {
    writeFileSync(out, text);
  } catch (error) {
    const cause = error as NodeJS.ErrnoException;
    throw new RuntimeFailure(`cannot write "${out}": ${cause.code === "ENOENT" ? "no such directory" : (cause.code ?? cause.message)}`);
  }
}
