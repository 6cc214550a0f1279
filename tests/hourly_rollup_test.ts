/**
 * The hourly rollup against an independent TypeScript computation over the raw events, on
 * PostgreSQL 15 and PGlite: random events across the hours of yesterday and today (the days
 * the nightly job has not closed), read live, then with the ended hours rolled up, then with
 * late events into closed hours (missing until the next run, as late events into a closed
 * day are until the next night), caught by the next run, an hour closed again by hand,
 * yesterday closed by the nightly job (its hours dropped), the minute snapshot of the open
 * hour with events after it, and with the hourly rollup emptied (the live computation)
 * giving the same answers.
 */
import assert from "node:assert/strict";
import { missingPostgres15, skipWithoutPostgres15 } from "./support/postgres15.ts";
import { openMigratedPglite, startMigratedPostgres15 } from "./support/database.ts";
import { prng, utcDay } from "./support/random_data.ts";
import type { Database } from "../database/mod.ts";
import { actAsUser } from "../database/act_as.ts";

const missing = await missingPostgres15();
const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;
const TYPES = ["page_view", "task_started", "task_completed", "user_signup", `it's "odd"; $$\\`];

interface Ev {
  type: string;
  user: string | null;
  at: number;
}

/** Random events between `from` and `to` (ms), a fifth anonymous, over `users`. */
function randomEvents(rand: () => number, n: number, from: number, to: number, users: string[]) {
  const out: Ev[] = [];
  for (let i = 0; i < n; i++) {
    out.push({
      type: TYPES[Math.floor(rand() * TYPES.length)],
      user: rand() < 0.2 ? null : users[Math.floor(rand() * users.length)],
      at: Math.floor(from + rand() * (to - from)),
    });
  }
  return out;
}

async function insertEvents(db: Database, events: Ev[]) {
  await db.query(
    `insert into public.events (event_type, user_id, anonymous_id, "timestamp")
     select e.t, e.u, case when e.u is null then 'anon-' || (e.i % 7) end, to_timestamp(e.at / 1000.0)
       from jsonb_to_recordset($1::text::jsonb) as e (i int, t text, u uuid, at double precision)`,
    [JSON.stringify(events.map((e, i) => ({ i, t: e.type, u: e.user, at: e.at })))],
  );
}

/** The dashboard's answers, as one list of lines, read as a superuser through RLS. */
async function readAll(db: Database, viewer: string, from: string, today: string) {
  const q = (sql: string, p: unknown[] = []) =>
    actAsUser(db, { sub: viewer }, (tx) => tx.query<{ r: string }>(sql, p));
  const lines: string[] = [];
  const series = async (metric: string, bucket: string, dimension = "") => {
    const rows = await q(
      `select concat_ws('|', $1::text, $4::text, $5::text, bucket_start, value) as r
         from analytics.timeseries($1, $2::date, $3::date, $4, $5)`,
      [metric, from, today, bucket, dimension],
    );
    lines.push(...rows.map((r) => r.r));
  };
  for (const bucket of ["day", "week", "month"]) {
    await series("events", bucket);
    await series("active_users", bucket);
  }
  for (const type of TYPES) await series("events", "day", type);
  await series("signups", "day");
  await series("weekly_active_users", "day");
  await series("monthly_active_users", "day");
  const breakdown = await q(
    `select concat_ws('|', 'breakdown', event_type, events, share) as r
       from analytics.breakdown($1::date, $2::date, 100)`,
    [from, today],
  );
  lines.push(...breakdown.map((r) => r.r));
  const summary = await q(
    `select concat_ws('|', 'summary', total_signups, dau, wau, mau) as r from analytics.summary()`,
  );
  lines.push(...summary.map((r) => r.r));
  return lines;
}

/** The same answers computed in TypeScript from the raw events. */
function expected(events: Ev[], from: string, today: string): string[] {
  const day = (at: number) => utcDay(at);
  const days: string[] = [];
  for (let t = Date.parse(from); utcDay(t) <= today; t += DAY_MS) days.push(utcDay(t));
  const usersBetween = (a: string, b: string) =>
    new Set(events.filter((e) => e.user && day(e.at) >= a && day(e.at) <= b).map((e) => e.user))
      .size;
  const plus = (d: string, n: number) => utcDay(Date.parse(d) + n * DAY_MS);
  const weekStart = (d: string) => plus(d, -((new Date(d).getUTCDay() + 6) % 7));
  const monthStart = (d: string) => `${d.slice(0, 7)}-01`;
  const monthEnd = (d: string) => {
    const m = new Date(d);
    return utcDay(Date.UTC(m.getUTCFullYear(), m.getUTCMonth() + 1, 0));
  };
  const count = (d: string, type?: string) =>
    events.filter((e) => day(e.at) === d && (type === undefined || e.type === type)).length;
  const lines: string[] = [];
  for (const bucket of ["day", "week", "month"]) {
    const start = bucket === "day" ? (d: string) => d : bucket === "week" ? weekStart : monthStart;
    const end = bucket === "day"
      ? (d: string) => d
      : bucket === "week"
      ? (d: string) => plus(weekStart(d), 6)
      : monthEnd;
    const buckets = [...new Set(days.map(start))];
    for (const b of buckets) {
      const inRange = days.filter((d) => start(d) === b);
      lines.push(`events|${bucket}||${b}|${inRange.reduce((s, d) => s + count(d), 0)}`);
    }
    for (const b of buckets) {
      const last = end(b) < today ? end(b) : today;
      lines.push(`active_users|${bucket}||${b}|${usersBetween(b, last)}`);
    }
  }
  for (const type of TYPES) {
    for (const d of days) lines.push(`events|day|${type}|${d}|${count(d, type)}`);
  }
  for (const d of days) lines.push(`signups|day||${d}|${count(d, "user_signup")}`);
  for (const d of days) lines.push(`weekly_active_users|day||${d}|${usersBetween(plus(d, -6), d)}`);
  for (const d of days) {
    lines.push(`monthly_active_users|day||${d}|${usersBetween(plus(d, -29), d)}`);
  }
  const inRange = events.filter((e) => day(e.at) >= from && day(e.at) <= today);
  const byType = new Map<string, number>();
  for (const e of inRange) byType.set(e.type, (byType.get(e.type) ?? 0) + 1);
  [...byType].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
    .forEach(([type, n]) => {
      const share = (Math.round((n * 10_000) / inRange.length) / 10_000).toFixed(4);
      lines.push(`breakdown|${type}|${n}|${share}`);
    });
  const yesterday = plus(today, -1);
  lines.push(
    `summary|${events.filter((e) => e.type === "user_signup").length}|${
      usersBetween(yesterday, yesterday)
    }|${usersBetween(plus(yesterday, -6), yesterday)}|${
      usersBetween(plus(yesterday, -29), yesterday)
    }`,
  );
  return lines;
}

/** The raw events, as the database holds them (the ground truth the TypeScript reads). */
async function rawEvents(db: Database): Promise<Ev[]> {
  const rows = await db.query<{ t: string; u: string | null; ms: string }>(
    `select event_type as t, user_id::text as u, (extract(epoch from "timestamp") * 1000)::bigint::text as ms
       from public.events`,
  );
  return rows.map((r) => ({ type: r.t, user: r.u, at: Number(r.ms) }));
}

async function closedHours(db: Database): Promise<Set<number>> {
  const rows = await db.query<{ ms: string }>(
    `select (extract(epoch from hour) * 1000)::bigint::text as ms from analytics.closed_hours`,
  );
  return new Set(rows.map((r) => Number(r.ms)));
}

function sortLines(lines: string[]) {
  return [...lines].sort();
}

async function scenario(db: Database) {
  const now = Date.now();
  const today = utcDay(now);
  const from = utcDay(now - 4 * DAY_MS);
  const yesterday = utcDay(now - DAY_MS);
  const rand = prng(20261127);
  // A superuser viewer; its own signup event stays, and is read with the raw events.
  const [{ id: viewer }] = await db.query<{ id: string }>(
    `select beacon.create_user('hourly-' || gen_random_uuid() || '@hourly.test', 'password-123', true)::text as id`,
  );
  const users = Array.from({ length: 60 }, () => crypto.randomUUID());
  const endOfToday = Date.parse(`${today}T00:00:00Z`) + DAY_MS - 1;
  // Events from four days back to twenty minutes ahead (today only), then close the days
  // before yesterday: yesterday and today are the days the nightly job has not closed.
  await insertEvents(
    db,
    randomEvents(
      rand,
      2500,
      Date.parse(`${from}T00:00:00Z`),
      Math.min(now + 20 * 60_000, endOfToday),
      users,
    ),
  );
  await db.query("select analytics.run_daily_aggregation($1::date)", [utcDay(now - 2 * DAY_MS)]);
  const check = async (label: string, truth?: Ev[]) => {
    const want = expected(truth ?? await rawEvents(db), from, today);
    const got = await readAll(db, viewer, from, today);
    assert.deepEqual(sortLines(got), sortLines(want), label);
    return got;
  };

  await check("all live");
  const [{ n: first }] = await db.query<{ n: number }>("select analytics.run_hourly_rollup() as n");
  assert.ok(
    first >= 24,
    `the first run rolls up yesterday's 24 hours and today's ended ones (${first})`,
  );
  const [{ rows }] = await db.query<{ rows: number }>(
    "select count(*)::int as rows from analytics.hourly_events",
  );
  assert.ok(rows > 24, "the hourly rollup holds rows");
  await check("ended hours rolled up");

  // The minute job's snapshot of the hours not rolled up (today's open hour), then events
  // after it, into the open hour (newer transactions, read live on top of it).
  const [{ n: taken }] = await db.query<{ n: number }>(
    "select analytics.refresh_live_parts() as n",
  );
  assert.ok(taken >= 1, `the snapshot takes today at least (${taken})`);
  const [{ snapshots }] = await db.query<{ snapshots: number }>(
    "select count(*)::int as snapshots from analytics.live_parts where day = $1::date",
    [today],
  );
  assert.equal(snapshots, 1, "today has a snapshot");
  await check("the open hour from the snapshot");
  // The 7-day window of today (yesterday's hours all closed, today's snapshot) is counted
  // from the bitmaps, not as before.
  const [{ fast }] = await actAsUser(
    db,
    { sub: viewer },
    (tx) =>
      tx.query<{ fast: boolean }>(
        "select private.open_window_users($1::date - 6, $1::date) is not null as fast",
        [today],
      ),
  );
  assert.ok(fast, "the windows holding yesterday and today are read from the bitmaps");
  const openFrom = now - (now % HOUR_MS);
  await insertEvents(
    db,
    randomEvents(rand, 120, openFrom, Math.min(now + 20 * 60_000, endOfToday), users),
  );
  await check("events after the snapshot read live on top of it");
  await db.query("select analytics.refresh_live_parts()");
  await check("the snapshot taken again");

  // Late events into closed hours of yesterday and today, and into the open hour.
  const closed = await closedHours(db);
  const before = await rawEvents(db);
  const lateFrom = Date.parse(`${yesterday}T00:00:00Z`);
  const late = randomEvents(rand, 300, lateFrom, Math.min(now, endOfToday), users)
    .filter((e) => e.type !== "user_signup"); // signups are always read live
  await insertEvents(db, late);
  const hourOf = (at: number) => at - (at % HOUR_MS);
  const visible = [...before, ...late.filter((e) => !closed.has(hourOf(e.at)))];
  await check("late events into closed hours are missing until the next run", visible);
  const lateHours = new Set(late.map((e) => hourOf(e.at)).filter((h) => closed.has(h)));
  const [{ n: again }] = await db.query<{ n: number }>("select analytics.run_hourly_rollup() as n");
  assert.ok(
    again >= lateHours.size,
    `the next run closes again the ${lateHours.size} late hours (${again})`,
  );
  const rolledUp = await check("late events caught by the next run");

  // Closing an hour again by hand changes nothing.
  await db.query("select private.close_hour($1::timestamptz)", [`${yesterday}T13:00:00Z`]);
  await check("an hour closed again");

  // The same answers with the hourly rollup ignored: the live computation.
  await db.exec(
    `truncate analytics.closed_hours, analytics.hourly_events, analytics.hourly_user_activity,
              analytics.hourly_day_users, analytics.hourly_day_totals`,
  );
  assert.deepEqual(
    sortLines(await readAll(db, viewer, from, today)),
    sortLines(rolledUp),
    "the live computation gives the same answers",
  );
  await db.query("select analytics.run_hourly_rollup()");
  await check("rolled up again");

  // The nightly close of yesterday supersedes its hours: read from the daily rollup, its set
  // of users dropped by the next run, its hours kept (for hour buckets).
  await db.query("select analytics.aggregate_day($1::date)", [yesterday]);
  await check("yesterday closed by the nightly job");
  await db.query("select analytics.run_hourly_rollup()");
  const [left] = await db.query<{ hours: number; users: number }>(
    `select (select count(*)::int from analytics.closed_hours
              where hour >= $1::date::timestamp at time zone 'UTC'
                and hour < $2::date::timestamp at time zone 'UTC') as hours,
            (select count(*)::int from analytics.hourly_day_users where day = $1::date) as users`,
    [yesterday, today],
  );
  assert.deepEqual(left, { hours: 24, users: 0 }, "yesterday keeps its hours, not its users");
  // A late event into a closed day: the hourly rollup does not count it twice.
  await insertEvents(db, [{
    type: "page_view",
    user: users[0],
    at: Date.parse(`${yesterday}T05:30:00Z`),
  }]);
  await db.query("select analytics.run_hourly_rollup()");
  await db.query("select analytics.aggregate_day($1::date)", [yesterday]);
  await check("after the hours of the closed day are superseded");

  // Yesterday reopened by hand (its hours kept, its set of users gone): users are read live
  // until an hour of it is closed again, which rebuilds the set from all its hours.
  await db.exec(`
    delete from analytics.aggregated_days where day = '${yesterday}';
    delete from analytics.user_activity where day = '${yesterday}';
    delete from analytics.daily_metrics where day = '${yesterday}';`);
  await check("a closed day reopened, its set of users gone");
  await db.query("select private.close_hour($1::timestamptz)", [`${yesterday}T07:00:00Z`]);
  await check("its set of users rebuilt by the next hour closed");
  await db.query("select analytics.aggregate_day($1::date)", [yesterday]);

  // close_hour checks its argument.
  for (
    const [arg, why] of [
      [`'${today}T00:30:00Z'::timestamptz`, "not the start of a UTC hour"],
      ["date_trunc('hour', now(), 'UTC')", "not over yet"],
    ]
  ) {
    await assert.rejects(
      db.query(`select private.close_hour(${arg})`),
      (e: Error & { code?: string }) => e.message.includes(why),
      `close_hour(${arg}) is refused: ${why}`,
    );
  }
}

Deno.test({
  name: "hourly rollup: same answers as the live computation on PostgreSQL 15",
  ignore: skipWithoutPostgres15(missing),
  async fn(t) {
    const { pg, db } = await startMigratedPostgres15();
    try {
      await t.step(
        "random events across hours, late events, close_hour, close_day",
        () => scenario(db),
      );
    } finally {
      await db.close();
      await pg.stop();
    }
  },
});

Deno.test("hourly rollup: same answers as the live computation on PGlite", async (t) => {
  const db = await openMigratedPglite();
  try {
    await t.step(
      "random events across hours, late events, close_hour, close_day",
      () => scenario(db),
    );
  } finally {
    await db.close();
  }
});
