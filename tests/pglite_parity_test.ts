/**
 * The same migrations on PGlite (the embedded database) and on PostgreSQL 15 give the
 * same answers from every read function and view for the same data.
 */
import assert from "node:assert/strict";
import { missingPostgres15, skipWithoutPostgres15 } from "./support/postgres15.ts";
import { openMigratedPglite, startMigratedPostgres15 } from "./support/database.ts";
import {
  generateData,
  loadEvents,
  loadUsersAndSubscriptions,
  utcDay,
} from "./support/random_data.ts";
import type { Queryable } from "../database/mod.ts";

const missing = await missingPostgres15();
const DAY_MS = 86_400_000;

/** Every read, as text rows, so that both drivers' type mappings compare equal. */
async function readEverything(
  db: Queryable,
  today: string,
): Promise<Record<string, string[]>> {
  const rows = async (sql: string, params: unknown[] = []) =>
    (await db.query<{ r: string }>(sql, params)).map((x) => x.r);
  const out: Record<string, string[]> = {};
  const metrics = await rows(
    "select metric as r from analytics.metric_definitions order by metric",
  );
  for (const metric of metrics) {
    for (const bucket of ["day", "week", "month"]) {
      out[`timeseries ${metric} ${bucket}`] = await rows(
        `select concat_ws('|', bucket_start, value) as r
           from analytics.timeseries($1, $2::date - 40, $2::date, $3)`,
        [metric, today, bucket],
      );
    }
  }
  out["timeseries events by type"] = await rows(
    `select concat_ws('|', bucket_start, value) as r from analytics.timeseries('events', $1::date - 40, $1::date, 'week', 'page_view')`,
    [today],
  );
  out["summary"] = await rows(
    "select concat_ws('|', s.*) as r from analytics.summary() s",
  );
  out["breakdown"] = await rows(
    "select concat_ws('|', b.*) as r from analytics.breakdown($1::date - 40, $1::date) b",
    [today],
  );
  out["daily_metrics"] = await rows(
    "select concat_ws('|', day, metric, dimension, value) as r from analytics.daily_metrics order by 1",
  );
  for (
    const view of [
      "daily_overview",
      "events_per_day",
      "signups_per_day",
      "active_users_per_day",
      "subscriptions_per_day",
      "weekly_retention",
    ]
  ) {
    out[view] = await rows(
      `select concat_ws('|', v.*) as r from analytics.${view} v order by 1`,
    );
  }
  return out;
}

Deno.test({
  name: "PGlite and PostgreSQL 15 give the same answers for the same data",
  ignore: skipWithoutPostgres15(missing),
  async fn() {
    assert.deepEqual(missing, [], `missing: ${missing.join(", ")}`);
    const now = Date.now();
    const today = utcDay(now);
    const data = generateData({ seed: 7, now, days: 45, events: 10000 });
    const { pg, db: postgres } = await startMigratedPostgres15();
    const pglite = await openMigratedPglite();
    try {
      const answers: Record<string, string[]>[] = [];
      for (const db of [postgres, pglite]) {
        await loadUsersAndSubscriptions(db, data);
        await loadEvents(db, data.events);
        await db.query("select analytics.run_daily_aggregation($1::date)", [
          utcDay(now - 5 * DAY_MS),
        ]);
        answers.push(await readEverything(db, today));
      }
      const [fromPostgres, fromPglite] = answers;
      assert.ok(
        fromPostgres["daily_metrics"].length > 500,
        "the rollup has rows to compare",
      );
      assert.ok(
        fromPostgres["weekly_retention"].length > 10,
        "retention has rows to compare",
      );
      assert.notDeepEqual(
        fromPostgres["summary"],
        ["0|0|0|0.00|0|0|0"],
        "the summary is not empty",
      );
      for (const key of Object.keys(fromPostgres)) {
        assert.deepEqual(
          fromPglite[key],
          fromPostgres[key],
          `${key} differs between PGlite and PostgreSQL 15`,
        );
      }
    } finally {
      await pglite.close();
      await postgres.close();
      await pg.stop();
    }
  },
});
