import assert from "node:assert/strict";
import { renderReport, saveResults } from "./report.ts";

// The figures of the last full run (10 M events), as bench/run.ts wrote them.
const full = JSON.parse(await Deno.readTextFile(new URL("./results.json", import.meta.url)));

/** The same run as if it had stopped at 1 M events: no rows for a larger size. */
function oneMillionRun() {
  const r = structuredClone(full);
  r.largeMillions = 1;
  r.queries = r.queries.filter((q: { name: string }) => q.name.endsWith("@ 1 M"));
  r.nightly.backfillLarge = r.nightly.backfill1m;
  return r;
}

function targetRow(report: string, start: string): string {
  const row = report.split("\n").find((line) => line.startsWith(`| ${start}`));
  assert.ok(row, `no target row starting "${start}"`);
  return row;
}

Deno.test("a 1 M run renders a whole report, its targets judged at 1 M", () => {
  const report = renderReport(oneMillionRun());
  assert.match(report, /## Targets/);
  assert.match(targetRow(report, "timeseries 90 days at 1 M events: p50"), /\| (met|missed) \|/);
  assert.match(targetRow(report, "summary() at 1 M events"), /\| (met|missed) \|/);
});

Deno.test("a target whose figure the run did not reach says not measured at this size", () => {
  const r = oneMillionRun();
  r.queries = r.queries.filter((q: { name: string }) => !q.name.startsWith("summary()"));
  delete r.nightly.day1m;
  const report = renderReport(r);
  assert.match(targetRow(report, "summary() at 1 M events"), /not measured at this size/);
  assert.match(targetRow(report, "one day of 1 M events aggregated"), /not measured at this size/);
});

Deno.test("the report names the commit measured, and bytes on the wire when measured", () => {
  const r = oneMillionRun();
  r.machine.commit = "0123456789ab";
  r.pages.wire = [{
    path: "/analytics",
    first: { totalBytes: 84_000, scriptBytes: 66_000 },
    second: {
      totalBytes: 17_000,
      scriptBytes: 0,
      scriptsDownloaded: 0,
      scriptsRevalidated: 0,
      scriptsFromCache: 3,
    },
  }];
  const report = renderReport(r);
  assert.match(report, /measured at commit `0123456789ab`/);
  assert.match(report, /\| \/analytics \| 82\.0 \| 64\.5 \| 16\.6 \| 0 \| 0 \| 3 \|/);
  assert.match(targetRow(report, "< 100 KB on the wire per page"), /\| met \| 82\.0 KB/);
  assert.match(targetRow(report, "second load of /analytics"), /\| met \|/);
});

Deno.test("a report that fails to render still leaves the figures written and printed", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const broken = { ...oneMillionRun(), ingestion: "not a list" };
    const printed: string[] = [];
    const log = console.log;
    const error = console.error;
    console.log = (line: string) => printed.push(line);
    console.error = () => {};
    let reported: boolean;
    try {
      reported = await saveResults(broken, {
        resultsFile: `${dir}/results.json`,
        reportFile: `${dir}/BENCHMARKS.md`,
      });
    } finally {
      console.log = log;
      console.error = error;
    }
    assert.equal(reported, false);
    const saved = JSON.parse(await Deno.readTextFile(`${dir}/results.json`));
    assert.deepEqual(saved.queries, broken.queries);
    assert.ok(printed.some((line) => line.includes('"queries"')), "the raw figures were printed");
    await assert.rejects(Deno.stat(`${dir}/BENCHMARKS.md`));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the live part late in a day is judged against 5 ms and listed with the queries", () => {
  const r = oneMillionRun();
  r.liveHours = {
    queries: [
      {
        name: "20:00 UTC, 19 hours rolled up: breakdown, 90 days @ 1 M",
        p50: 2.5,
        p95: 4,
        baseline: 6,
        baselineName: "live",
      },
      {
        name: "20:00 UTC, 19 hours rolled up: timeseries events, 90 days by day @ 1 M",
        p50: 4.2,
        p95: 6,
        baseline: 9,
        baselineName: "live",
      },
    ],
    closeHourMs: 7.6,
    snapshotMs: 3.4,
    dayEvents: 10_000,
  };
  const report = renderReport(r);
  assert.match(
    targetRow(report, "any 90-day dashboard query at 20:00 UTC"),
    /\| met \| 4\.2 ms at most \(timeseries events/,
  );
  assert.match(report, /\| 20:00 UTC, 19 hours rolled up: breakdown, 90 days @ 1 M \| 2\.5 \|/);
  assert.match(
    report,
    /\| hourly: close_hour, one hour at the 1 M rate \(500 events\) \| 0\.008 \|/,
  );
  assert.match(
    report,
    /\| every minute: refresh_live_parts at 19:59, the open hour at the 1 M rate, the windows' merged pages built again \| 0\.003 \|/,
  );
  delete r.liveHours;
  assert.match(
    targetRow(renderReport(r), "any 90-day dashboard query at 20:00 UTC"),
    /not measured/,
  );
});

Deno.test("group-commit rows render with their latency, and the 64-client target is judged against 4 clients without", () => {
  const r = oneMillionRun();
  const row = (clients: number, grouped: boolean, eventsPerSecond: number) => ({
    clients,
    grouped,
    events: 1000,
    eventsPerSecond,
    copyPerSecond: 80_000,
    ratioToCopy: eventsPerSecond / 80_000,
    p50Ms: 3.25,
    p99Ms: 12.5,
  });
  r.groupCommit = [row(4, false, 700), row(1, true, 300), row(8, true, 2000), row(64, true, 8000)];
  // COPY measured beside the 4-client row ran faster: the ratios to COPY differ from events/s.
  r.groupCommit[0] = { ...r.groupCommit[0], copyPerSecond: 100_000, ratioToCopy: 0.007 };
  const report = renderReport(r);
  assert.match(report, /\| 64 \| yes \| 8,000 \| 80,000 \| 0\.100 \| 3\.3 \| 12\.5 \|/);
  assert.match(
    targetRow(report, "one event per request, 64 clients"),
    /\| met \| 11\.4× in events\/s \(8,000 vs 700\); 14\.3× as ratios to COPY \(0\.100 vs 0\.007\)/,
  );
  r.groupCommit[3] = row(64, true, 6000);
  assert.match(targetRow(renderReport(r), "one event per request, 64 clients"), /\| missed \|/);
  delete r.groupCommit;
  assert.match(
    targetRow(renderReport(r), "one event per request, 64 clients"),
    /not measured at this size/,
  );
});

Deno.test("the bytes-per-event target counts the ids at steady state and names their horizon", () => {
  const r = oneMillionRun();
  const bytes = (perEvent: number, tablePerEvent: number) => ({
    table: "public.events",
    events: 1_100_000,
    partitions: 9,
    heap: 158.9 * 1_100_000,
    toast: 0,
    indexes: { "public.events_timestamp_idx": 40.4 * 1_100_000 },
    extra: { "private.event_ids": (perEvent - tablePerEvent) * 1_100_000 },
    total: perEvent * 1_100_000,
    perEvent,
    tablePerEvent,
  });
  r.eventSize = {
    current: bytes(214.8, 212.6),
    legacy: { ...bytes(309, 309), extra: {} },
    horizonDays: 1,
    idsKept: 12_197,
    reduction: 1 - 214.8 / 309,
    tableReduction: 1 - 212.6 / 309,
  };
  let report = renderReport(r);
  assert.match(targetRow(report, "≥ 30 % fewer bytes per event"), /\| met \| 30\.5 % \(1-day/);
  assert.match(report, /12,197 ids: those received within the 1-day idempotency horizon/);
  r.eventSize.reduction = 1 - 221.4 / 309;
  r.eventSize.horizonDays = 7;
  report = renderReport(r);
  assert.match(targetRow(report, "≥ 30 % fewer bytes per event"), /\| missed \| 28\.3 % \(7-day/);
});
