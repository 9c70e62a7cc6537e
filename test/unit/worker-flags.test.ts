import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { WORKER_SEMI_SPACE_FLAG, workerExecArgv } from "../../gateway/primary/worker-flags.js";

describe("worker V8 flags", () => {
  it("adds a small young generation after the primary's own flags", () => {
    assert.deepEqual(workerExecArgv(["--enable-source-maps"], undefined), ["--enable-source-maps", WORKER_SEMI_SPACE_FLAG]);
  });

  it("leaves the operator's semi-space choice alone, in the primary's flags or in NODE_OPTIONS", () => {
    assert.deepEqual(workerExecArgv(["--max-semi-space-size=16"], undefined), ["--max-semi-space-size=16"]);
    assert.deepEqual(workerExecArgv([], "--max_semi_space_size=8 --trace-warnings"), []);
    assert.deepEqual(workerExecArgv([], "--min-semi-space-size=4"), []);
  });
});
