/** Bucket sizes the rollups and the dashboard use; all are whole UTC units. */
export const bucketMs = {
  minute: 60_000,
  hour: 3_600_000,
  day: 86_400_000,
} as const;

export type BucketStep = keyof typeof bucketMs;

/** The start of the bucket holding `at` (UTC; days start at midnight UTC). */
export function floorTo(at: Date, step: BucketStep): Date {
  const size = bucketMs[step];
  return new Date(Math.floor(at.getTime() / size) * size);
}

/** The start of the first bucket that starts at or after `at`. */
export function ceilTo(at: Date, step: BucketStep): Date {
  const size = bucketMs[step];
  return new Date(Math.ceil(at.getTime() / size) * size);
}

/** `at` moved by a number of whole buckets. */
export function addBuckets(at: Date, step: BucketStep, count: number): Date {
  return new Date(at.getTime() + count * bucketMs[step]);
}

/** Earlier of two instants. */
export function minDate(a: Date, b: Date): Date {
  return a.getTime() <= b.getTime() ? a : b;
}

/** Later of two instants. */
export function maxDate(a: Date, b: Date): Date {
  return a.getTime() >= b.getTime() ? a : b;
}

/** An instant as a literal Postgres reads as timestamptz in any session time zone. */
export function timestampLiteral(at: Date): string {
  return at.toISOString();
}
