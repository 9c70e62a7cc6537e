/**
 * "did you mean" for mistyped commands and flags: the closest known name by edit distance
 * (Levenshtein, with adjacent swaps counted as one edit), if it is close enough to be a typo.
 * Written here rather than pulled in: a dozen lines, and the CLI stays free of dependencies.
 */

/** Optimal string alignment distance: insertions, deletions, substitutions and adjacent swaps. */
export function editDistance(a: string, b: string): number {
  const rows = a.length + 1;
  const cols = b.length + 1;
  const d: number[][] = Array.from({ length: rows }, (_, i) => Array.from({ length: cols }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i < rows; i++) {
    for (let j = 1; j < cols; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[a.length][b.length];
}

/** The known name closest to `input`, when it is within a third of its length (at least 2 edits), or a prefix of it. */
export function closestName(input: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const name of known) {
    const distance = editDistance(input.toLowerCase(), name.toLowerCase());
    if (distance < bestDistance) {
      best = name;
      bestDistance = distance;
    }
  }
  if (best === undefined) return undefined;
  if (bestDistance <= Math.max(2, Math.floor(input.length / 3))) return best;
  const prefixed = known.filter((name) => input.length >= 3 && name.startsWith(input));
  return prefixed.length === 1 ? prefixed[0] : undefined;
}

/** ` (did you mean "--workers"?)`, or "" when nothing is close. */
export function didYouMean(input: string, known: readonly string[], show: (name: string) => string = (name) => name): string {
  const match = closestName(input, known);
  return match === undefined ? "" : ` (did you mean "${show(match)}"?)`;
}
