import assert from "node:assert/strict";
import {
  msUntilNextHourlyRun,
  msUntilNextMinute,
  msUntilNextRun,
  startNightlyScheduler,
} from "./nightly_scheduler.ts";
import type { Database } from "../database/mod.ts";
import { silentLogger } from "../log/mod.ts";

/** A database that answers every query with one row and records what it was asked. */
function recordingDatabase(asked: string[]): Database {
  return {
    kind: "pglite",
    query: <T>(sql: string) => {
      asked.push(sql);
      return Promise.resolve(
        [{ days: sql.includes("refresh_live_parts") ? 2 : 0, hours: 3 }] as T[],
      );
    },
    exec: () => Promise.resolve(),
    queryText: () => Promise.reject(new Error("not used")),
    transaction: () => Promise.reject(new Error("not used")),
    queryScript: () => Promise.reject(new Error("not used")),
    close: () => Promise.resolve(),
  } as Database;
}

Deno.test("the nightly job runs at the next 02:00 UTC", () => {
  const at = (iso: string) => msUntilNextRun(new Date(iso)) / 60_000;
  assert.equal(at("2026-11-26T01:00:00Z"), 60);
  assert.equal(at("2026-11-26T02:00:00Z"), 24 * 60);
  assert.equal(at("2026-11-26T23:30:00Z"), 150);
  assert.equal(at("2026-12-31T03:00:00Z"), 23 * 60);
});

Deno.test("the hourly rollup runs at five past the next hour (UTC)", () => {
  const at = (iso: string) => msUntilNextHourlyRun(new Date(iso)) / 60_000;
  assert.equal(at("2026-11-26T08:30:00Z"), 35);
  assert.equal(at("2026-11-26T08:04:00Z"), 1);
  assert.equal(at("2026-11-26T08:05:00Z"), 60);
  assert.equal(at("2026-11-26T23:50:00Z"), 15);
  assert.equal(at("2026-12-31T23:59:30Z"), 5.5);
});

Deno.test("the live part's snapshot is taken at the start of every minute", () => {
  assert.equal(msUntilNextMinute(new Date("2026-11-26T08:30:00Z")), 60_000);
  assert.equal(msUntilNextMinute(new Date("2026-11-26T08:30:59.250Z")), 750);
  assert.equal(msUntilNextMinute(new Date("2026-11-26T23:59:01Z")), 59_000);
});

Deno.test("the scheduler runs the nightly job at start, the hourly rollup and the revenue refresh on its tick", async () => {
  const asked: string[] = [];
  const scheduler = startNightlyScheduler(recordingDatabase(asked), silentLogger);
  try {
    assert.equal(await scheduler.runHourlyNow(), 3);
    assert.ok(asked.some((sql) => sql.includes("analytics.run_daily_aggregation()")));
    assert.ok(asked.some((sql) => sql.includes("analytics.run_hourly_rollup()")));
    // The revenue reports' kept days follow the hourly rollup.
    const hourly = asked.findIndex((sql) => sql.includes("analytics.run_hourly_rollup()"));
    assert.ok(asked.slice(hourly).some((sql) => sql.includes("beacon.refresh_revenue_report()")));
    // Closing hours drops their days' live part snapshots: taken again right after.
    assert.ok(asked.slice(hourly).some((sql) => sql.includes("analytics.refresh_live_parts()")));
    assert.equal(await scheduler.refreshLivePartsNow(), 2, "and when asked (and every minute)");
  } finally {
    await scheduler.stop();
  }
});

Deno.test("right after the demo data, the scheduler does not close the seeded days again at start", async () => {
  const asked: string[] = [];
  const scheduler = startNightlyScheduler(recordingDatabase(asked), silentLogger, {
    runAtStart: false,
    hourly: false,
  });
  try {
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.ok(!asked.some((sql) => sql.includes("analytics.run_daily_aggregation()")));
    assert.equal(await scheduler.runNow(), 0, "it still runs when asked (and at 02:00 UTC)");
    assert.ok(asked.some((sql) => sql.includes("analytics.run_daily_aggregation()")));
  } finally {
    await scheduler.stop();
  }
});
