/**
 * Retention, lifecycle, stickiness and feature adoption against independent TypeScript
 * computations (tests/support/person_reports.ts) on random data, on PostgreSQL 15 and on
 * PGlite: all days live, then closed by the nightly job, then late events caught up by it,
 * then a link arriving today for devices seen only on closed days (read at once, then moved by
 * the nightly job), then today's hours taken into the bitmaps by the hourly extension, late
 * events included. Bad arguments: 22023.
 */
import assert from "node:assert/strict";
import { missingPostgres15, skipWithoutPostgres15 } from "./support/postgres15.ts";
import { openMigratedPglite, startMigratedPostgres15 } from "./support/database.ts";
import { utcDay } from "./support/random_data.ts";
import {
  expectedAdoption,
  expectedLifecycle,
  expectedRetention,
  expectedStickiness,
  generatePersonEvents,
  insertPersonEvents,
  type PersonEvent,
  personFacts,
} from "./support/person_reports.ts";
import type { Database } from "../database/mod.ts";
import { actAsUser } from "../database/act_as.ts";

const missing = await missingPostgres15();
const DAY_MS = 86_400_000;

type Row = Record<string, unknown>;
const s = (v: unknown) => (v === null || v === undefined ? "" : String(v));

async function asSuperuser(db: Database): Promise<(sql: string, p?: unknown[]) => Promise<Row[]>> {
  const [{ id }] = await db.query<{ id: string }>(
    `select beacon.create_user('viewer-' || gen_random_uuid() || '@reports.test', 'password-123', true)::text as id`,
  );
  // The viewer's own signup event is no part of the random data.
  await db.query(`delete from public.events where user_id = $1::uuid`, [id]);
  return (sql, p) => actAsUser(db, { sub: id }, (tx) => tx.query<Row>(sql, p));
}

async function compareAll(db: Database, events: PersonEvent[], now: number, label: string) {
  const q = await asSuperuser(db);
  const facts = personFacts(events);
  const today = utcDay(now);
  const back = (n: number) => utcDay(now - n * DAY_MS);
  for (
    const o of [
      { fromDay: back(70), periods: 12, period: "week", start: "user_signup", ret: null },
      { fromDay: back(20), periods: 15, period: "day", start: "page_view", ret: "feature_used" },
      { fromDay: back(80), periods: 4, period: "month", start: "user_signup", ret: "page_view" },
    ]
  ) {
    const rows = await q(
      `select concat_ws('|', coalesce(cohort_start::text, ''), cohort_size, period_offset, retained,
                        coalesce(percentage::text, '')) as r
         from analytics.retention($1::date, $2, $3, $4, $5)`,
      [o.fromDay, o.periods, o.period, o.start, o.ret],
    );
    const got = rows.map((r) => s(r.r).replace(/\|$/, "|null"));
    const want = expectedRetention(facts, o, today).map((r) => r.replace(/\|$/, "|null"));
    assert.deepEqual(got, want, `${label}: retention ${JSON.stringify(o)}`);
  }
  for (
    const o of [
      { fromDay: back(30), toDay: today, type: null, bucket: "day" },
      { fromDay: back(60), toDay: back(3), type: "page_view", bucket: "week" },
      { fromDay: back(85), toDay: today, type: "goal_submitted", bucket: "month" },
    ]
  ) {
    const rows = await q(
      `select concat_ws('|', bucket_start, status, persons) as r
         from analytics.lifecycle($1::date, $2::date, $3, $4)`,
      [o.fromDay, o.toDay, o.type, o.bucket],
    );
    assert.deepEqual(
      rows.map((r) => s(r.r)),
      expectedLifecycle(facts, o),
      `${label}: lifecycle ${JSON.stringify(o)}`,
    );
  }
  for (
    const o of [
      { fromDay: back(40), toDay: today, type: null, period: "week" },
      { fromDay: back(75), toDay: back(5), type: "feature_used", period: "month" },
    ]
  ) {
    const rows = await q(
      `select concat_ws('|', coalesce(period_start::text, ''), days, persons) as r
         from analytics.stickiness($1::date, $2::date, $3, $4)`,
      [o.fromDay, o.toDay, o.type, o.period],
    );
    assert.deepEqual(
      rows.map((r) => s(r.r)),
      expectedStickiness(facts, o),
      `${label}: stickiness ${JSON.stringify(o)}`,
    );
  }
  for (
    const o of [{ fromDay: back(30), toDay: today, top: 20 }, {
      fromDay: back(90),
      toDay: back(10),
      top: 2,
    }]
  ) {
    const rows = await q(
      `select concat_ws('|', event_type, persons, active_persons, coalesce(percentage::text, '')) as r
         from analytics.feature_adoption($1::date, $2::date, $3)`,
      [o.fromDay, o.toDay, o.top],
    );
    assert.deepEqual(
      rows.map((r) => s(r.r)),
      expectedAdoption(facts, o),
      `${label}: adoption ${JSON.stringify(o)}`,
    );
  }
}

async function scenario(db: Database) {
  const now = Date.now();
  const all = generatePersonEvents(20261127, now, 90, 2400);
  // Out of order: three batches, each spread over the whole 90 days.
  await insertPersonEvents(db, all.slice(0, 800));
  await insertPersonEvents(db, all.slice(800, 1600));
  await compareAll(db, all.slice(0, 1600), now, "live");
  await db.query(`select analytics.run_daily_aggregation(((now() at time zone 'UTC')::date - 2))`);
  await compareAll(db, all.slice(0, 1600), now, "closed");
  // Late events on closed days (with new links), caught up by the next run.
  await insertPersonEvents(db, all.slice(1600));
  await db.query(`select analytics.run_daily_aggregation(((now() at time zone 'UTC')::date - 2))`);
  await compareAll(db, all, now, "late events caught up");
  // Today, a user signs in on devices seen so far only anonymously on closed days: their
  // old days become the user's at once, without another run.
  const anonymousOnly = [...new Set(all.map((e) => e.anonymousId).filter((a) => a !== null))]
    .filter((a) => !all.some((e) => e.anonymousId === a && e.userId !== null)).slice(0, 5);
  const user = all.find((e) => e.userId !== null)!.userId;
  const linking = anonymousOnly.map((a) => ({
    eventType: "page_view",
    userId: user,
    anonymousId: a,
    at: now - 1000,
  }));
  await insertPersonEvents(db, linking);
  await compareAll(db, [...all, ...linking], now, "links today");
  const [queued] = await db.query<{ n: number }>(
    "select count(*)::int as n from analytics.pending_person_links",
  );
  assert.equal(queued.n, anonymousOnly.length, "each new link waits for the nightly job");
  // The nightly job moves those devices' bits to the user in the stored bitmaps.
  await db.query(`select analytics.run_daily_aggregation(((now() at time zone 'UTC')::date - 1))`);
  const [left] = await db.query<{ n: number }>(
    "select count(*)::int as n from analytics.pending_person_links",
  );
  assert.equal(left.n, 0, "the nightly job empties the queue of links");
  await compareAll(db, [...all, ...linking], now, "links moved by the nightly job");

  // The hourly extension takes today's closed hours into the bitmaps; readers read only the
  // rest from the events. Events that arrive late for an extended hour count from the next run.
  await db.query("select analytics.extend_person_bits(now())");
  const [extended] = await db.query<{ n: number }>(
    `select count(*)::int as n from analytics.person_day_bits
      where day = (now() at time zone 'UTC')::date`,
  );
  assert.ok(extended.n > 0, "today's persons so far are in the bitmaps");
  await compareAll(db, [...all, ...linking], now, "today extended");
  const late = [
    { eventType: "feature_used", userId: null, anonymousId: "device-late-today", at: now - 2000 },
    { eventType: "page_view", userId: user, anonymousId: null, at: now - 2000 },
  ];
  await insertPersonEvents(db, late);
  await db.query("select analytics.extend_person_bits(now())");
  await compareAll(
    db,
    [...all, ...linking, ...late],
    now,
    "late events taken by the next extension",
  );
  const after = [{
    eventType: "button_click",
    userId: null,
    anonymousId: "device-after",
    at: Date.now(),
  }];
  await insertPersonEvents(db, after);
  await compareAll(
    db,
    [...all, ...linking, ...late, ...after],
    Date.now(),
    "events after the extension, live",
  );
}

async function badArguments(db: Database) {
  const q = await asSuperuser(db);
  const cases: Array<[string, string]> = [
    [`select * from analytics.retention(current_date, periods => 0)`, "periods"],
    [`select * from analytics.retention(current_date, period => 'year')`, "period"],
    [`select * from analytics.retention(null)`, "from_day"],
    [`select * from analytics.retention(current_date, start_event => '')`, "start_event"],
    [`select * from analytics.lifecycle(current_date, current_date - 1)`, "from_day"],
    [`select * from analytics.lifecycle(current_date, null)`, "to_day"],
    [`select * from analytics.lifecycle(current_date, current_date, bucket => 'hour')`, "bucket"],
    [`select * from analytics.stickiness(current_date, current_date, period => 'day')`, "period"],
    [
      `select * from analytics.stickiness(current_date, current_date, event_type => '')`,
      "event_type",
    ],
    [`select * from analytics.feature_adoption(current_date, current_date, 0)`, "top"],
  ];
  for (const [sql, field] of cases) {
    await assert.rejects(q(sql), (e: { code?: string; message?: string }) => {
      assert.equal(e.code, "22023", sql);
      assert.match(e.message ?? "", new RegExp(`^analytics\\.\\w+: ${field}\\b`), sql);
      return true;
    });
  }
}

Deno.test({
  name: "person reports match independent computations on PostgreSQL 15",
  ignore: skipWithoutPostgres15(missing),
  async fn(t) {
    const { pg, db } = await startMigratedPostgres15();
    try {
      await t.step("random data: live, closed, late, linked today", () => scenario(db));
      await t.step("bad arguments raise 22023 naming the argument", () => badArguments(db));
    } finally {
      await db.close();
      await pg.stop();
    }
  },
});

Deno.test("person reports match independent computations on PGlite", async (t) => {
  const db = await openMigratedPglite();
  try {
    await t.step("random data: live, closed, late, linked today", () => scenario(db));
    await t.step("bad arguments raise 22023 naming the argument", () => badArguments(db));
  } finally {
    await db.close();
  }
});
