import assert from "node:assert/strict";
import { bucketEnd, markPartialPeriods } from "./partial_periods.ts";

const TODAY = "2026-11-26"; // a Thursday

Deno.test("a bucket ends on its last day: day, Monday-to-Sunday week, calendar month", () => {
  assert.equal(bucketEnd("2026-11-26", "day"), "2026-11-26");
  assert.equal(bucketEnd("2026-11-23", "week"), "2026-11-29");
  assert.equal(bucketEnd("2026-02-01", "month"), "2026-02-28");
  assert.equal(bucketEnd("2026-12-01", "month"), "2026-12-31");
});

Deno.test("today is a partial period; closed days are not", () => {
  const marked = markPartialPeriods(
    [{ bucket: "2026-11-25", value: 10 }, { bucket: "2026-11-26", value: 3 }],
    { from: "2026-11-25", to: TODAY, bucket: "day", kind: "sum", today: TODAY },
  );
  assert.deepEqual(marked, [
    { bucket: "2026-11-25", value: 10, incomplete: false },
    { bucket: "2026-11-26", value: 3, incomplete: true },
  ]);
});

Deno.test("weeks and months the range cuts are partial periods for summed metrics", () => {
  // 2026-10-28 (a Wednesday) to 2026-11-15 (a Sunday): the first week is cut, the others whole.
  const weeks = markPartialPeriods(
    [
      { bucket: "2026-10-26", value: 1 },
      { bucket: "2026-11-02", value: 1 },
      { bucket: "2026-11-09", value: 1 },
    ],
    { from: "2026-10-28", to: "2026-11-15", bucket: "week", kind: "sum", today: TODAY },
  );
  assert.deepEqual(weeks.map((p) => p.incomplete), [true, false, false]);
  const months = markPartialPeriods(
    [{ bucket: "2026-09-01", value: 1 }, { bucket: "2026-10-01", value: 1 }],
    { from: "2026-09-01", to: "2026-10-20", bucket: "month", kind: "sum", today: TODAY },
  );
  assert.deepEqual(months.map((p) => p.incomplete), [false, true], "cut at the end");
});

Deno.test("the week and month holding today are partial periods for every kind of metric", () => {
  for (const kind of ["sum", "distinct", "last"]) {
    const marked = markPartialPeriods(
      [{ bucket: "2026-11-16", value: 4 }, { bucket: "2026-11-23", value: 2 }],
      { from: "2026-11-16", to: TODAY, bucket: "week", kind, today: TODAY },
    );
    assert.deepEqual(marked.map((p) => p.incomplete), [false, true], kind);
  }
});

Deno.test("a cut bucket of distinct users or of an end-of-period metric is not partial", () => {
  // Distinct users count the whole calendar week; WAU and MRR take the value of a closed day.
  for (const kind of ["distinct", "last"]) {
    const marked = markPartialPeriods(
      [{ bucket: "2026-10-26", value: 7 }, { bucket: "2026-11-02", value: 7 }],
      { from: "2026-10-28", to: "2026-11-04", bucket: "week", kind, today: TODAY },
    );
    assert.deepEqual(marked.map((p) => p.incomplete), [false, false], kind);
  }
});

Deno.test("days after today have no value instead of a zero", () => {
  const marked = markPartialPeriods(
    [
      { bucket: "2026-11-26", value: 5 },
      { bucket: "2026-11-27", value: 0 },
      { bucket: "2026-11-28", value: 0 },
    ],
    { from: "2026-11-26", to: "2026-11-28", bucket: "day", kind: "sum", today: TODAY },
  );
  assert.deepEqual(marked.map((p) => p.value), [5, null, null]);
  const months = markPartialPeriods(
    [{ bucket: "2026-11-01", value: 9 }, { bucket: "2026-12-01", value: 0 }],
    { from: "2026-11-01", to: "2026-12-31", bucket: "month", kind: "last", today: TODAY },
  );
  assert.deepEqual(months, [
    { bucket: "2026-11-01", value: 9, incomplete: true },
    { bucket: "2026-12-01", value: null, incomplete: true },
  ]);
});
