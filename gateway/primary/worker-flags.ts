/**
 * V8 flags for the worker processes.
 *
 * A worker holding thousands of idle sockets is mostly old-generation objects; V8's default young
 * generation (16 MB per semi-space on Node 20, more on Node 24) sits on top of them as resident
 * memory the sockets never use. At 60,000 idle sockets over 4 workers (bench/RESULTS.scale.md,
 * "young generation"), 8 MB took 14.2–14.8 KB RSS per socket to 12.5–13.0 KB for +4–8 % CPU per
 * broadcast delivery; 2 MB saved no more and cost +25 %. On Node 24, 5,000 sockets on one worker:
 * 15.8 → 13.2 KB per socket at idle.
 *
 * An operator's own choice wins: a semi-space flag in the primary's flags or in NODE_OPTIONS
 * (which the workers inherit) leaves ours out.
 */
export const WORKER_SEMI_SPACE_FLAG = "--max-semi-space-size=8";

const SEMI_SPACE = /--(max|min)[-_]semi[-_]space[-_]size/;

/** The flags a worker starts with: the primary's own (as Node's cluster passes them), plus ours where the operator set none. */
export function workerExecArgv(primaryExecArgv: readonly string[], nodeOptions: string | undefined): string[] {
  const operatorChose = primaryExecArgv.some((flag) => SEMI_SPACE.test(flag)) || SEMI_SPACE.test(nodeOptions ?? "");
  return operatorChose ? [...primaryExecArgv] : [...primaryExecArgv, WORKER_SEMI_SPACE_FLAG];
}
