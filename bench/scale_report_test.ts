import assert from "node:assert/strict";
import {
  renderScaleSection,
  replaceScaleSection,
  SCALE_END,
  SCALE_START,
  type ScaleResults,
  writeScaleSection,
} from "./scale_report.ts";
import { saveResults } from "./report.ts";
import type { EventBytes } from "./size.ts";

function bytes(table: string, events: number, perEvent: number, ids: number): EventBytes {
  const own = Math.round((perEvent - ids) * events);
  return {
    table,
    events,
    partitions: 15,
    heap: Math.round(own * 0.7),
    toast: 0,
    indexes: { "public.events_timestamp_idx": own - Math.round(own * 0.7) },
    extra: ids ? { "private.event_ids": ids * events } : {},
    total: Math.round(perEvent * events),
    perEvent,
    tablePerEvent: perEvent - ids,
  };
}

/** A run of `millions` M events whose figures meet the speed targets. */
function run(millions: number): ScaleResults {
  const events = millions * 1e6;
  return {
    machine: {
      cpu: "AMD EPYC",
      cores: "2",
      memory: "23.5 GiB",
      postgres: "15.20",
      deno: "2.9.6",
      date: "2026-11-26T15:00:00.000Z",
      loadAverage: "7.1 6.9 6.0",
    },
    settings: {
      targetEvents: events,
      budgetMinutes: 360,
      legacyTargetEvents: events,
      batch: 1e6,
      windowEvents: 50_000,
      dayEvents: 1e6,
      users: 100_000,
      from: "2025-11-01T00:00:00.000Z",
      until: "2026-11-26T15:00:00.000Z",
    },
    samples: [
      {
        events: 100_000,
        httpPerSecond: 40_000,
        sqlPerSecond: 30_000,
        legacyEvents: 0,
        legacySqlPerSecond: 31_000,
      },
      {
        events,
        httpPerSecond: 36_000,
        sqlPerSecond: 29_000,
        legacyEvents: events,
        legacySqlPerSecond: 12_000,
      },
    ],
    stoppedBy: "target",
    loadSeconds: 600,
    legacy: {
      events,
      currentEvents: events + 300_000,
      current: bytes("public.events", events + 300_000, 221, 8.7),
      legacy: bytes("bench_legacy.events", events, 308.5, 0),
      rawDayMs: { current: 120, legacy: 180 },
      deleteMonth: { rows: 7_500_000, ms: 95_000 },
    },
    bytes: bytes("public.events", events, 221, 8.7),
    backfillSeconds: 120,
    queries: { timeseries90: { p50: 9.1, p95: 12 }, summary: { p50: 23.8, p95: 30 } },
    dayRollup: { day: "2026-06-29", events: 1_250_000, ms: 1_800 },
    dropMonth: {
      partition: "events_2025_11",
      rows: 7_500_000,
      ms: 40,
      dropped: ["events_2025_11"],
    },
    totalSeconds: 900,
  };
}

function targetRow(section: string, start: string): string {
  const row = section.split("\n").find((line) => line.startsWith(`| ${start}`));
  assert.ok(row, `no target row starting "${start}"`);
  return row;
}

Deno.test("a scale run below 50 M events is labelled a smoke run, a 100 M run is not", () => {
  assert.match(renderScaleSection(run(2)), /## Scale run — smoke run at 2\.0 M events/);
  const full = renderScaleSection(run(100));
  assert.match(full, /## Scale run at 100 M events/);
  assert.doesNotMatch(full, /smoke/);
});

Deno.test("the scale run's targets are met or missed by its own figures", () => {
  const good = renderScaleSection(run(100));
  assert.match(targetRow(good, "HTTP batch ingestion at the end"), /\| met \| 0\.90 \(36,000 vs/);
  assert.match(targetRow(good, "timeseries 90 days p50 < 20 ms"), /\| met \| 9\.1 ms/);
  assert.match(targetRow(good, "summary() p50 < 50 ms"), /\| met \| 23\.8 ms/);
  assert.match(targetRow(good, "one day's rollup < 3 s"), /\| met \| 1\.80 s for 1,250,000/);
  assert.match(
    targetRow(good, "dropping a month of raw events"),
    /\| met \| 40\.0 ms for 7,500,000/,
  );
  // 221 against 308.5 bytes is 28.4 % fewer: short of 30 %.
  assert.match(targetRow(good, "≥ 30 % fewer bytes"), /\| missed \| 28\.4 % at 100 M \|/);

  const bad = run(100);
  bad.samples[1].httpPerSecond = 20_000;
  bad.queries.summary.p50 = 51;
  bad.dayRollup.ms = 3_200;
  bad.dropMonth.dropped = []; // fast, but nothing was dropped
  const missed = renderScaleSection(bad);
  assert.match(targetRow(missed, "HTTP batch ingestion at the end"), /\| missed \| 0\.50/);
  assert.match(targetRow(missed, "summary() p50 < 50 ms"), /\| missed \|/);
  assert.match(targetRow(missed, "one day's rollup < 3 s"), /\| missed \|/);
  assert.match(targetRow(missed, "dropping a month of raw events"), /\| missed \|/);
});

Deno.test("the side-by-side table compares both schemas at the legacy table's size", () => {
  const r = run(100);
  r.legacy!.events = 40e6;
  const section = renderScaleSection(r);
  assert.match(section, /### Side by side with the table before issue 12, at 40 M events/);
  assert.match(section, /\| bytes per event, all counted \| 221\.0 \| 308\.5 \|/);
  assert.match(section, /\| 30,000 → 29,000 \(0\.97\) \| 31,000 → 12,000 \(0\.39\) \|/);
  assert.match(section, /delete of 7,500,000 rows: 95,000 ms/);
  delete r.legacy;
  const alone = renderScaleSection(r);
  assert.doesNotMatch(alone, /Side by side/);
  assert.doesNotMatch(alone, /fewer bytes/);
});

Deno.test("the scale section replaces an earlier one and survives deno task bench's rewrite", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const file = new URL(`file://${dir}/BENCHMARKS.md`);
    await Deno.writeTextFile(file, "# Benchmarks\n\nold figures\n");
    await writeScaleSection(run(2), file);
    await writeScaleSection(run(60), file);
    const once = await Deno.readTextFile(file);
    assert.equal(once.split(SCALE_START).length, 2, "one scale section");
    assert.match(once, /^# Benchmarks\n\nold figures\n\n<!-- bench:scale start -->/);
    assert.match(once, /Scale run at 60 M events/);
    assert.doesNotMatch(once, /smoke run at 2\.0 M/);

    const full = JSON.parse(await Deno.readTextFile(new URL("./results.json", import.meta.url)));
    assert.equal(
      await saveResults(full, { resultsFile: `${dir}/results.json`, reportFile: file }),
      true,
    );
    const rewritten = await Deno.readTextFile(file);
    assert.doesNotMatch(rewritten, /old figures/);
    assert.match(rewritten, /## Targets/);
    assert.match(rewritten, /Scale run at 60 M events[\s\S]*<!-- bench:scale end -->\n$/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("replacing the scale section keeps what follows it", () => {
  const section = `${SCALE_START}\nnew\n${SCALE_END}\n`;
  const report = `# B\n\n${SCALE_START}\nold\n${SCALE_END}\n\n## After\n`;
  assert.equal(replaceScaleSection(report, section), `# B\n\n${section}\n## After\n`);
});
