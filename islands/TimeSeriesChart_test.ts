import assert from "node:assert/strict";
import { checkRange, display, incompleteDash, metricHint } from "./TimeSeriesChart.tsx";

Deno.test("the line into a partial period is dashed, the others solid", () => {
  const dash = incompleteDash([
    { bucket: "2026-11-24", value: 3 },
    { bucket: "2026-11-25", value: 4, incomplete: false },
    { bucket: "2026-11-26", value: 1, incomplete: true },
  ]);
  assert.equal(dash({ p1DataIndex: 1 }), undefined);
  assert.deepEqual(dash({ p1DataIndex: 2 }), [6, 5]);
});

Deno.test("the metric hint follows the bucket: 'that week', 'at the end of the month'", () => {
  const events = { metric: "events", description: "Events that happened that day." };
  assert.equal(metricHint(events, "day"), "Events that happened that day.");
  assert.equal(metricHint(events, "week"), "Events that happened that week.");
  const subs = {
    metric: "active_subscriptions",
    description: "Paying subscriptions (past trial, not ended) at the end of the day.",
  };
  assert.match(metricHint(subs, "month"), /at the end of the month\.$/);
  const wau = {
    metric: "weekly_active_users",
    description: "Distinct users with an event in the 7 days ending that day.",
  };
  assert.match(metricHint(wau, "week"), /7 days ending on the week's last day/);
});

Deno.test("the MRR hint speaks of dollars, as the chart draws them, not of cents", () => {
  const mrr = {
    metric: "mrr_cents",
    description:
      "Monthly recurring revenue in USD cents at the end of the day (yearly plans count 1/12).",
  };
  const hint = metricHint(mrr, "day");
  assert.doesNotMatch(hint, /cents/);
  assert.match(hint, /US dollars/);
  assert.equal(display("mrr_cents", 591960), "$5,919.60");
  assert.equal(display("events", null), "—", "a day after today shows no number");
});

Deno.test("custom dates apply only when complete and in order", () => {
  assert.equal(checkRange("2026-11-01", "2026-11-10"), null);
  assert.equal(checkRange("2026-11-10", "2026-11-10"), null);
  assert.equal(checkRange("", "2026-11-10")?.field, "from", "a half-typed date");
  assert.equal(checkRange("2026-11-01", "2026-02-31")?.field, "to", "no such day");
  const after = checkRange("2026-11-10", "2026-11-01");
  assert.equal(after?.field, "from");
  assert.match(after!.message, /on or before To/);
  assert.match(checkRange("2000-01-01", "2026-01-01")!.message, /at most 10 years/);
});
