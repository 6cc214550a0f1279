/**
 * The nightly aggregation against an independent computation, on PostgreSQL 15: random
 * data (users, 12,000+ events over 35 days with timestamps written in several UTC offsets,
 * subscriptions with trials, upgrades and churn), late events, repeated runs, and a gap.
 */
import assert from "node:assert/strict";
import { missingPostgres15, skipWithoutPostgres15 } from "./support/postgres15.ts";
import { startMigratedPostgres15 } from "./support/database.ts";
import {
  dayRange,
  expectedRollup,
  generateData,
  loadEvents,
  loadUsersAndSubscriptions,
  readRollup,
  utcDay,
} from "./support/random_data.ts";
import type { Database } from "../database/mod.ts";

const missing = await missingPostgres15();
const DAY_MS = 86_400_000;

function assertRollupMatches(
  actual: Map<string, number>,
  expected: Map<string, number>,
) {
  const problems: string[] = [];
  for (const [key, value] of expected) {
    if (actual.get(key) !== value) {
      problems.push(`${key}: expected ${value}, got ${actual.get(key)}`);
    }
  }
  for (const [key, value] of actual) {
    if (!expected.has(key)) {
      problems.push(`${key}: unexpected row with ${value}`);
    }
  }
  assert.deepEqual(
    problems.slice(0, 20),
    [],
    `${problems.length} rollup rows differ`,
  );
}

async function rollupSnapshot(db: Database): Promise<string[]> {
  const rows = await db.query<{ row: string }>(
    `select concat_ws('|', day, metric, dimension, value) as row from analytics.daily_metrics order by 1`,
  );
  return rows.map((r) => r.row);
}

Deno.test({
  name: "nightly aggregation matches an independent computation on random data",
  ignore: skipWithoutPostgres15(missing),
  async fn(t) {
    assert.deepEqual(missing, [], `missing: ${missing.join(", ")}`);
    const now = Date.now();
    const today = utcDay(now);
    const yesterday = utcDay(now - DAY_MS);
    const data = generateData({ seed: 20261126, now, days: 35, events: 12000 });
    // A fifth of the events arrive late: after the first run, for days already closed.
    const late = data.events.filter((e, i) => i % 5 === 0 && utcDay(e.at) < yesterday);
    const onTime = data.events.filter((e) => !late.includes(e));
    const firstDay = utcDay(
      Math.min(
        ...data.events.map((e) => e.at),
        ...data.users.map((u) => u.createdAt),
      ),
    );
    const closedDays = dayRange(firstDay, yesterday);
    assert.ok(
      closedDays.length >= 30,
      "the data spans at least 30 closed days",
    );
    assert.ok(
      late.some((e) => utcDay(e.at) < utcDay(now - 5 * DAY_MS)),
      "some late events are older than 3 days",
    );

    const { pg, db } = await startMigratedPostgres15();
    try {
      await loadUsersAndSubscriptions(db, data);
      await loadEvents(db, onTime);

      await t.step(
        "the first run closes every day from the first event to yesterday",
        async () => {
          const [{ n }] = await db.query<{ n: number }>(
            "select analytics.run_daily_aggregation() as n",
          );
          assert.equal(n, closedDays.length);
          assertRollupMatches(
            await readRollup(db, closedDays),
            expectedRollup(data, onTime, closedDays),
          );
        },
      );

      await t.step("running it again changes nothing", async () => {
        const before = await rollupSnapshot(db);
        await db.query("select analytics.run_daily_aggregation()");
        assert.deepEqual(await rollupSnapshot(db), before);
      });

      await t.step(
        "late events, however old, are counted by the next run",
        async () => {
          await loadEvents(db, late);
          await db.query("select analytics.run_daily_aggregation()");
          assertRollupMatches(
            await readRollup(db, closedDays),
            expectedRollup(data, data.events, closedDays),
          );
        },
      );

      await t.step(
        "after a gap of several days the next run fills every day",
        async () => {
          await db.exec(
            "truncate analytics.daily_metrics, analytics.user_activity, analytics.aggregated_days, analytics.aggregation_runs",
          );
          const gapStart = utcDay(now - 9 * DAY_MS);
          await db.query("select analytics.run_daily_aggregation($1::date)", [
            utcDay(now - 10 * DAY_MS),
          ]);
          const [{ closed }] = await db.query<{ closed: string | null }>(
            "select max(day)::text as closed from analytics.aggregated_days",
          );
          assert.equal(closed, utcDay(now - 10 * DAY_MS));
          await db.query("select analytics.run_daily_aggregation()");
          const days = await db.query<{ day: string }>(
            "select day::text as day from analytics.aggregated_days order by day",
          );
          assert.deepEqual(days.map((d) => d.day), closedDays);
          assert.ok(closedDays.includes(gapStart));
          assertRollupMatches(
            await readRollup(db, closedDays),
            expectedRollup(data, data.events, closedDays),
          );
        },
      );

      await t.step(
        "aggregate_day on one old day also refreshes the windows of the days after it",
        async () => {
          const day = utcDay(now - 12 * DAY_MS);
          const at = Date.parse(`${day}T12:00:00Z`);
          // A user nobody saw before, active once: they join WAU and MAU of the days after.
          const event = {
            id: crypto.randomUUID(),
            eventType: "late_visit",
            userId: crypto.randomUUID(),
            anonymousId: null,
            at,
            timestamp: new Date(at).toISOString(),
          };
          data.events.push(event);
          await loadEvents(db, [event]);
          await db.query("select analytics.aggregate_day($1::date)", [day]);
          assertRollupMatches(
            await readRollup(db, closedDays),
            expectedRollup(data, data.events, closedDays),
          );
        },
      );

      await t.step(
        "active users by calendar week and month are distinct users of the whole bucket",
        async () => {
          for (const bucket of ["week", "month"] as const) {
            const rows = await db.query<{ start: string; value: string }>(
              `select bucket_start::text as start, value::text as value
               from analytics.timeseries('active_users', $1::date, $2::date, $3)`,
              [closedDays[0], today, bucket],
            );
            for (const row of rows) {
              const start = Date.parse(`${row.start}T00:00:00Z`);
              const end = bucket === "week"
                ? start + 7 * DAY_MS
                : Date.UTC(new Date(start).getUTCFullYear(), new Date(start).getUTCMonth() + 1, 1);
              const users = new Set(
                [...data.events, ...data.users.map((u) => ({ userId: u.id, at: u.createdAt }))]
                  .filter((e) => e.userId && e.at >= start && e.at < end)
                  .map((e) => e.userId),
              );
              assert.equal(Number(row.value), users.size, `${bucket} of ${row.start}`);
            }
          }
        },
      );

      await t.step("today is computed live, not closed", async () => {
        const [{ closed }] = await db.query<{ closed: boolean }>(
          "select exists (select 1 from analytics.aggregated_days where day = $1::date) as closed",
          [today],
        );
        assert.equal(closed, false);
        const expected = data.events.filter((e) => utcDay(e.at) === today).length +
          data.users.filter((u) => utcDay(u.createdAt) === today).length;
        const [{ value }] = await db.query<{ value: string }>(
          "select value::text from analytics.timeseries('events', $1::date, $1::date)",
          [today],
        );
        assert.equal(Number(value), expected);
      });
    } finally {
      await db.close();
      await pg.stop();
    }
  },
});
