/** The part of autocannon's programmatic API the HTTP suite uses (the package ships no types). */
declare module 'autocannon' {
  interface Histogram {
    readonly average: number;
    readonly mean: number;
    readonly p50: number;
    readonly p99: number;
    readonly total: number;
  }
  interface Options {
    url: string;
    connections?: number;
    duration?: number;
    pipelining?: number;
    timeout?: number;
    /** Milliseconds between samples; the run stops on a sample tick. @default 1000 */
    sampleInt?: number;
    headers?: Record<string, string>;
  }
  interface Result {
    readonly latency: Histogram;
    readonly requests: Histogram & { readonly sent: number };
    readonly duration: number;
    readonly errors: number;
    readonly timeouts: number;
    readonly non2xx: number;
    readonly '2xx': number;
    readonly '4xx': number;
    readonly '5xx': number;
  }
  function autocannon(options: Options): Promise<Result>;
  export = autocannon;
}
