/**
 * The key distributions every contender of a case is given, identical for all: one hot key,
 * or N keys visited in a fixed pseudo-random order (a seeded generator, so every contender and
 * every round sees the same sequence).
 */
export interface KeySet {
  readonly label: string;
  readonly size: number;
  /** The key of the i-th operation. */
  keyAt(i: number): string;
}

export function oneKey(key = 'user-1'): KeySet {
  return { label: 'one key', size: 1, keyAt: () => key };
}

/** `size` keys `user-<n>`, drawn uniformly by a seeded xorshift generator (2^20 draws, cycled). */
export function manyKeys(size: number, seed = 0x9e3779b9): KeySet {
  const keys = Array.from({ length: size }, (_, n) => `user-${n}`);
  const order = new Uint32Array(1 << 20);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < order.length; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    order[i] = x % size;
  }
  const mask = order.length - 1;
  return {
    label: `${size.toLocaleString('en-US')} keys`,
    size,
    keyAt: (i) => keys[order[i & mask]],
  };
}
