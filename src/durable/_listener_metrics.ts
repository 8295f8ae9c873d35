// One durable listener's figures in this process, for `Soiree.metrics()`: its settlements by
// outcome and a histogram of how long its attempts took. Its consumer writes them; nothing
// reads them but the scrape.

/** Upper bounds of the attempt-duration buckets, in seconds: 0.5 ms to 10 s (Watermill's). */
export const DURATION_BUCKETS: readonly number[] = [
  0.0005,
  0.001,
  0.0025,
  0.005,
  0.01,
  0.025,
  0.05,
  0.1,
  0.25,
  0.5,
  1,
  2.5,
  5,
  10,
];

/** A durable listener's settlements and attempt durations. */
export class ListenerMetrics {
  acked = 0;
  retried = 0;
  deadLettered = 0;
  released = 0;
  /** Attempts per bucket, not cumulative: the last one counts those above every bound. */
  readonly buckets: number[] = new Array(DURATION_BUCKETS.length + 1).fill(0);
  /** Attempts observed. */
  count = 0;
  /** Their durations added up, in seconds. */
  sum = 0;

  /** Records one attempt that took `seconds`. */
  observe(seconds: number): void {
    let i = 0;
    while (i < DURATION_BUCKETS.length && seconds > DURATION_BUCKETS[i]) i++;
    this.buckets[i]++;
    this.count++;
    this.sum += seconds;
  }
}
