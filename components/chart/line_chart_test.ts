import assert from "node:assert/strict";
import { incompleteDash, seriesDatasets } from "./line_chart.ts";

Deno.test("the line into a partial period is dashed, the others solid", () => {
  const dash = incompleteDash([
    { bucket: "2026-11-24", value: 3 },
    { bucket: "2026-11-25", value: 4, incomplete: false },
    { bucket: "2026-11-26", value: 1, incomplete: true },
  ]);
  assert.equal(dash({ p1DataIndex: 1 }), undefined);
  assert.deepEqual(dash({ p1DataIndex: 2 }), [6, 5]);
});

Deno.test("the datasets draw MRR in dollars, and the previous period only when comparing", () => {
  const selection = {
    metric: "mrr_cents",
    range: "custom",
    from: "2026-10-01",
    to: "2026-11-30",
    bucket: "month" as const,
    compare: true,
  };
  const series = [
    { bucket: "2026-10-01", value: 591960 },
    { bucket: "2026-11-01", value: 600000, incomplete: true },
  ];
  const previous = [{ bucket: "2026-08-01", value: 100 }, { bucket: "2026-09-01", value: null }];
  const view = { selection, label: "MRR (USD)", series, previous };
  const { labels, datasets } = seriesDatasets(view);
  assert.deepEqual(labels, ["Oct 2026", "Nov 2026"]);
  assert.deepEqual(datasets.map((d) => d.label), ["MRR (USD)", "Previous period"]);
  assert.deepEqual(datasets[0].data, [5919.6, 6000]);
  assert.deepEqual(datasets[1].data, [1, null], "a bucket without a value is not drawn");
  assert.deepEqual(datasets[0].pointBackgroundColor, ["#1d4ed8", "#fff"], "hollow when partial");
  const alone = seriesDatasets({ ...view, selection: { ...selection, compare: false } });
  assert.equal(alone.datasets.length, 1);
});
