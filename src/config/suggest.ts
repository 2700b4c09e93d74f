/** "Did you mean" for misspelt keys and names: the closest candidate by edit distance, if close enough. */

/** Optimal string alignment distance: Levenshtein plus adjacent transposition ("pollInetrval"). */
export function editDistance(a: string, b: string): number {
  const rows = a.length + 1;
  const cols = b.length + 1;
  const d: number[] = new Array<number>(rows * cols).fill(0);
  const at = (i: number, j: number): number => d[i * cols + j] ?? 0;
  for (let i = 0; i < rows; i++) {
    d[i * cols] = i;
  }
  for (let j = 0; j < cols; j++) {
    d[j] = j;
  }
  for (let i = 1; i < rows; i++) {
    for (let j = 1; j < cols; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(at(i - 1, j) + 1, at(i, j - 1) + 1, at(i - 1, j - 1) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        best = Math.min(best, at(i - 2, j - 2) + 1);
      }
      d[i * cols + j] = best;
    }
  }
  return at(a.length, b.length);
}

/**
 * The candidate closest to `input`, compared case-insensitively, when it is within about a third
 * of the input's length (so "pollIntervall" finds "pollInterval" but "foo" does not find "port").
 */
export function closestMatch(input: string, candidates: Iterable<string>): string | undefined {
  const needle = input.toLowerCase();
  let best: string | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const candidate of candidates) {
    const distance = editDistance(needle, candidate.toLowerCase());
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  const allowed = Math.max(1, Math.floor(input.length / 3));
  if (best !== undefined && bestDistance <= allowed) {
    return best;
  }
  // "warning" for "warn", "holdingRegister" for "holding": one is the start of the other.
  const lower = (text: string) => text.toLowerCase();
  return [...candidates].find(
    (candidate) =>
      Math.min(candidate.length, input.length) >= 3 &&
      (lower(input).startsWith(lower(candidate)) || lower(candidate).startsWith(lower(input))),
  );
}

export function didYouMean(input: string, candidates: Iterable<string>): string {
  const match = closestMatch(input, candidates);
  return match === undefined ? "" : `; did you mean "${match}"?`;
}
