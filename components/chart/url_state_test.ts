import assert from "node:assert/strict";
import { checkRange, selectionQuery, seriesCsvUrl, seriesUrl } from "./url_state.ts";

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

Deno.test("a selection's page, series and CSV addresses", () => {
  const custom = {
    metric: "mrr_cents",
    range: "custom",
    from: "2026-11-01",
    to: "2026-11-10",
    bucket: "week" as const,
    compare: true,
  };
  assert.equal(
    selectionQuery(custom),
    "metric=mrr_cents&bucket=week&from=2026-11-01&to=2026-11-10&compare=1",
  );
  assert.equal(
    selectionQuery({ ...custom, range: "30", compare: false }),
    "metric=mrr_cents&bucket=week&range=30",
    "a preset range is shared as its name, not its dates",
  );
  assert.equal(
    seriesUrl(custom),
    "api/v1/analytics/timeseries?metric=mrr_cents&from=2026-11-01&to=2026-11-10&bucket=week&compare=1",
  );
  assert.equal(
    seriesCsvUrl(custom),
    "api/v1/analytics/timeseries.csv?metric=mrr_cents&from=2026-11-01&to=2026-11-10&bucket=week",
  );
});
