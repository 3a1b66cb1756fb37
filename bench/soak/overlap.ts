/**
 * The most concurrency permits held at once, from hold intervals reported by several processes
 * (monotonic ms, one clock for the machine). Intervals are swept in start order once settled
 * (older than the reports' delay), so memory stays bounded over a long run.
 */
export class HoldOverlap {
  /** Most intervals open at one instant. */
  max = 0;
  /** Intervals that arrived after their start was settled (checked out of order). */
  late = 0;
  private pending: number[] = [];
  /** Ends of the settled intervals still open at the last settle point. */
  private open: number[] = [];
  private settledUpTo = -Infinity;

  /** Adds intervals `[start, end, start, end...]`. */
  add(xs: readonly number[]): void {
    for (let i = 0; i < xs.length; i += 2) {
      if (xs[i] < this.settledUpTo) this.late++;
      this.pending.push(xs[i], xs[i + 1]);
    }
  }

  /** Sweeps every pending interval starting before `cut`. */
  settle(cut: number): void {
    const ready: [number, number][] = [];
    const rest: number[] = [];
    for (let i = 0; i < this.pending.length; i += 2) {
      if (this.pending[i] < cut) ready.push([this.pending[i], this.pending[i + 1]]);
      else rest.push(this.pending[i], this.pending[i + 1]);
    }
    this.pending = rest;
    ready.sort((a, b) => a[0] - b[0]);
    for (const [start, end] of ready) {
      // Recorded inside each hold: an interval ending at or before this start had released.
      this.open = this.open.filter((e) => e > start);
      this.open.push(end);
      this.max = Math.max(this.max, this.open.length);
    }
    this.settledUpTo = Math.max(this.settledUpTo, cut);
  }
}
