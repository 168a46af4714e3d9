/** "Did you mean" suggestions for misspelt keys, modules, handlers, hosts and variables. */

/** Damerau-style edit distance (insert, delete, substitute, swap of neighbours). */
export function editDistance(a: string, b: string): number {
  const rows = a.length + 1;
  const cols = b.length + 1;
  const d: number[][] = Array.from({ length: rows }, (_, i) => {
    const row = new Array<number>(cols).fill(0);
    row[0] = i;
    return row;
  });
  for (let j = 0; j < cols; j++) d[0][j] = j;
  for (let i = 1; i < rows; i++) {
    for (let j = 1; j < cols; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[rows - 1][cols - 1];
}

/** Candidates close enough to `name` to be a likely typo, nearest first. */
export function closest(name: string, candidates: Iterable<string>, max = 3): string[] {
  const lower = name.toLowerCase();
  // Short names tolerate one edit, longer ones about a third of their length.
  const limit = Math.max(1, Math.min(3, Math.floor(name.length / 3)));
  const scored: Array<[string, number]> = [];
  for (const c of new Set(candidates)) {
    const dist = editDistance(lower, c.toLowerCase());
    if (dist <= limit && c !== name) scored.push([c, dist]);
  }
  scored.sort((x, y) => x[1] - y[1] || x[0].localeCompare(y[0]));
  return scored.slice(0, max).map(([c]) => c);
}

/** " (did you mean "x"?)" or "" — ready to append to a message. */
export function didYouMean(name: string, candidates: Iterable<string>): string {
  const found = closest(name, candidates, 1);
  return found.length ? ` (did you mean "${found[0]}"?)` : '';
}
