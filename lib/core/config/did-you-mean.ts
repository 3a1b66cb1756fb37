/** Levenshtein edit distance between `a` and `b` (insertions, deletions, substitutions). */
export function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1);
      current[j] = Math.min(previous[j] + 1, current[j - 1] + 1, substitution);
    }
    previous = current;
  }
  return previous[b.length];
}

/**
 * The candidate closest to `input`, or undefined when none is close enough to be a plausible
 * typo (distance at most a third of the input's length, and at least 2). Case-insensitive.
 */
export function closest(input: string, candidates: Iterable<string>): string | undefined {
  const needle = input.toLowerCase();
  const budget = Math.max(2, Math.floor(needle.length / 3));
  let best: string | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const candidate of candidates) {
    const distance = editDistance(needle, candidate.toLowerCase());
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return bestDistance <= budget ? best : undefined;
}

/**
 * A `; did you mean ...?` hint naming the closest candidate, or an empty string. `quote` wraps
 * the name: a backtick for keys (the default), `'` for ids as code spells them.
 */
export function didYouMean(input: string, candidates: Iterable<string>, quote = '`'): string {
  const match = closest(input, candidates);
  return match === undefined ? '' : `; did you mean ${quote}${match}${quote}?`;
}
