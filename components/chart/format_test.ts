import assert from "node:assert/strict";
import { display, metricHint, metricUnit, shownValues } from "./format.ts";

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

Deno.test("MRR is stored in cents and shown in dollars; other metrics as counted", () => {
  assert.deepEqual(shownValues("mrr_cents", [591960, null, 5]), [5919.6, null, 0.05]);
  assert.deepEqual(shownValues("events", [1234, null]), [1234, null]);
  assert.equal(metricUnit("mrr_cents").tick(6000), "$6K");
  assert.equal(metricUnit("events").tick(1200), "1,200");
  assert.equal(display("events", 1234.5), "1,234.5");
});
