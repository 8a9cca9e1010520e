import { z } from "zod";

/**
 * The instants the server takes as input: [first, end). PostgreSQL stores no year 0 and reads no
 * year past 9999, and JavaScript writes instants from 10000-01-01 as "+010000-…", which it refuses
 * outright. An offset moves a written time up to a day, and the usage ranges round `to` up to a
 * whole day at most (usage-range.ts), so the last year is cut off whole: nothing accepted can
 * reach 10000-01-01 after rounding. Before the epoch no event, key or usage row can exist.
 */
export const instantBounds = {
  first: Date.UTC(1970, 0, 1),
  end: Date.UTC(9999, 0, 1),
} as const;

const outOfRangeMessage = "Pick a time in the years 1970 to 9998 (UTC).";

/**
 * A point in time as an ISO 8601 date-time with offset ("2026-05-01T12:00:00Z",
 * "2026-05-01T14:00:00+02:00"), read into a Date within instantBounds. Every date input uses it,
 * so a date the database would refuse is INVALID_INPUT on its field, never a 500.
 */
export const instantSchema = z.iso
  .datetime({ offset: true })
  .transform((text) => new Date(text))
  .refine((at) => at.getTime() >= instantBounds.first && at.getTime() < instantBounds.end, {
    message: outOfRangeMessage,
    // Checks chained after this one (a time in the future, a range) need a storable instant.
    abort: true,
  });
