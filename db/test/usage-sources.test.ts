import { describe, expect, test } from "bun:test";
import { planSources } from "../src/analytics/usage-sources.ts";

const at = (text: string) => new Date(`2026-12-${text}Z`);

describe("which table answers which part of a range", () => {
  test("whole days come from the daily rollup, the edges from hours, then minutes, then raw", () => {
    const plan = planSources(at("01T22:30:00"), at("04T10:20:00"), at("04T10:15:00"), null);

    expect(plan).toEqual({
      day: [{ from: at("02T00:00:00"), to: at("04T00:00:00") }],
      hour: [
        { from: at("01T23:00:00"), to: at("02T00:00:00") },
        { from: at("04T00:00:00"), to: at("04T10:00:00") },
      ],
      minute: [
        { from: at("01T22:30:00"), to: at("01T23:00:00") },
        { from: at("04T10:00:00"), to: at("04T10:15:00") },
      ],
      raw: { from: at("04T10:15:00"), to: at("04T10:20:00") },
    });
  });

  test("an hourly chart never reads days, a per-minute chart only minutes", () => {
    const hourly = planSources(at("01T00:00:00"), at("03T00:00:00"), at("02T12:00:00"), "hour");
    const perMinute = planSources(
      at("02T10:00:00"),
      at("02T11:00:00"),
      at("02T10:59:00"),
      "minute",
    );

    expect(hourly.day).toEqual([]);
    expect(hourly.hour).toEqual([{ from: at("01T00:00:00"), to: at("02T12:00:00") }]);
    expect(hourly.raw).toEqual({ from: at("02T12:00:00"), to: at("03T00:00:00") });
    expect(perMinute).toEqual({
      day: [],
      hour: [],
      minute: [{ from: at("02T10:00:00"), to: at("02T10:59:00") }],
      raw: { from: at("02T10:59:00"), to: at("02T11:00:00") },
    });
  });

  test("before the rollup job's first run everything is read raw", () => {
    const plan = planSources(at("01T00:00:00"), at("01T02:00:00"), null, null);

    expect(plan).toEqual({
      day: [],
      hour: [],
      minute: [],
      raw: { from: at("01T00:00:00"), to: at("01T02:00:00") },
    });
  });
});
