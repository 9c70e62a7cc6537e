/**
 * V8 flags for the worker processes.
 *
 * A worker holding thousands of idle sockets is mostly old-generation objects; V8's default young
 * generation (up to 16 MB per semi-space on Node 20, more on Node 24) sits on top of that as
 * resident memory the sockets never use. Two megabytes per semi-space took 10,000 idle sockets
 * on one worker from 14.7 to 13.0 KB RSS each on Node 20 and from 21.2 to 14.5 KB on Node 24,
 * with the fan-out CPU per delivery unchanged within the noise (bench/RESULTS.memory.md, lever 3).
 *
 * An operator's own choice wins: a semi-space flag in the primary's flags or in NODE_OPTIONS
 * (which the workers inherit) leaves ours out.
 */
export const WORKER_SEMI_SPACE_FLAG = "--max-semi-space-size=2";

const SEMI_SPACE = /--(max|min)[-_]semi[-_]space[-_]size/;

/** The flags a worker starts with: the primary's own (as Node's cluster passes them), plus ours where the operator set none. */
export function workerExecArgv(primaryExecArgv: readonly string[], nodeOptions: string | undefined): string[] {
  const operatorChose = primaryExecArgv.some((flag) => SEMI_SPACE.test(flag)) || SEMI_SPACE.test(nodeOptions ?? "");
  return operatorChose ? [...primaryExecArgv] : [...primaryExecArgv, WORKER_SEMI_SPACE_FLAG];
}
