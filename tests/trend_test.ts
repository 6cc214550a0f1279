/**
 * analytics.trend against an independent TypeScript computation (tests/support/trend_model.ts)
 * on random data (persons with several anonymous ids, properties missing, null, numbers as
 * strings, nested, hostile property names), on PostgreSQL 15 and on PGlite, read from the
 * events and again from the rollups once the days are closed and properties tracked; the
 * definitions it refuses, naming the field.
 */
import assert from "node:assert/strict";
import { missingPostgres15, skipWithoutPostgres15 } from "./support/postgres15.ts";
import { openMigratedPglite, startMigratedPostgres15 } from "./support/database.ts";
import { prng, utcDay } from "./support/random_data.ts";
import {
  modelTrend,
  type RawEvent,
  type TrendDefinition,
  type TrendRow,
} from "./support/trend_model.ts";
import type { Database, Queryable } from "../database/mod.ts";

const missing = await missingPostgres15();
const DAY_MS = 86_400_000;
/** A property name built to break naive quoting. */
export const HOSTILE = `we'ird"\\$$;-- ) or 1=1`;

function uuid(random: () => number): string {
  const h = Array.from({ length: 32 }, () => Math.floor(random() * 16).toString(16)).join("");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-8${h.slice(17, 20)}-${
    h.slice(20)
  }`;
}

/** Random events over the 20 days before `now`, in random arrival order. */
export function generate(seed: number, now: number): RawEvent[] {
  const random = prng(seed);
  const pick = <T>(xs: T[]) => xs[Math.floor(random() * xs.length)];
  const users = Array.from({ length: 40 }, () => uuid(random));
  const devices = Array.from({ length: 60 }, (_, i) => `dev-${seed}-${i}`);
  const payload = () => {
    const p: Record<string, unknown> = {};
    const maybe = (key: string, values: unknown[]) => {
      if (random() < 0.85) p[key] = pick(values);
    };
    maybe("plan", ["free", "pro", "pro", "team", "Pro-Team", null, "free"]);
    maybe("ms", [
      Math.floor(random() * 900),
      Math.round(random() * 10_000) / 100,
      String(Math.floor(random() * 500)),
      "3.5",
      "-1e2",
      "abc",
      null,
      { v: 1 },
      true,
      "",
    ]);
    maybe("meta", [{ k: "x" }, { k: "y" }, "flat", [1, 2]]);
    maybe(HOSTILE, [Math.floor(random() * 50), "a'b", `x"y`, String(Math.floor(random() * 9))]);
    return p;
  };
  const events: RawEvent[] = [];
  for (let i = 0; i < 900; i++) {
    const device = pick(devices);
    const signedIn = random() < 0.4;
    const user = signedIn ? pick(users) : null;
    events.push({
      type: pick(["a", "a", "b", "c"]),
      userId: user,
      anonymousId: user !== null && random() < 0.5 ? null : device,
      payload: payload(),
      at: now - Math.floor(random() * 20 * DAY_MS) - (random() < 0.3 ? 0 : 0),
    });
  }
  return events;
}

export async function load(db: Queryable, events: RawEvent[]) {
  await db.query(
    `insert into public.events (event_type, user_id, anonymous_id, payload, "timestamp")
     select x.e ->> 't', (x.e ->> 'u')::uuid, x.e ->> 'a', x.e -> 'p', (x.e ->> 'ts')::timestamptz
       from jsonb_array_elements($1::text::jsonb) with ordinality as x (e, o)
      order by x.o`,
    [JSON.stringify(events.map((e) => ({
      t: e.type,
      u: e.userId,
      a: e.anonymousId,
      p: e.payload,
      ts: new Date(e.at).toISOString(),
    })))],
  );
}

/** The events as stored, in arrival order: what the model reads. */
async function stored(db: Queryable): Promise<RawEvent[]> {
  const rows = await db.query<Record<string, unknown>>(
    `select event_type, user_id::text as user_id, anonymous_id, payload::text as payload,
            (extract(epoch from "timestamp") * 1000)::float8 as at
       from public.events order by seq`,
  );
  return rows.map((r) => ({
    type: String(r.event_type),
    userId: r.user_id as string | null,
    anonymousId: r.anonymous_id as string | null,
    payload: JSON.parse(String(r.payload)),
    at: Math.round(Number(r.at)),
  }));
}

function cases(now: number): Array<[string, TrendDefinition]> {
  const back = (n: number) => utcDay(now - n * DAY_MS);
  return [
    ["two series, formula, breakdown, compare", {
      series: [{ event: "a" }, { event: "a", math: "unique" }],
      from: back(8),
      to: back(0),
      breakdown: "plan",
      breakdown_top: 2,
      compare: true,
      formula: "B / A * 100",
    }],
    ["numeric math by week, filters", {
      series: [
        { event: "a", math: "sum", property: "ms" },
        {
          event: "b",
          math: "avg",
          property: "ms",
          filters: [{ property: "plan", op: "neq", value: "free" }],
        },
        { event: null, math: "median", property: "ms" },
        {
          event: "c",
          math: "p90",
          property: "ms",
          filters: [{ property: "ms", op: "gt", value: 10 }],
        },
      ],
      from: back(19),
      to: back(1),
      bucket: "week",
      formula: "(A - D) / -(B + C) * 2.5",
    }],
    ["hours, all events, breakdown by a mixed property", {
      series: [{ event: null, filters: [{ property: "ms", op: "is_set" }] }],
      from: back(3),
      to: back(1),
      bucket: "hour",
      breakdown: "ms",
      breakdown_top: 4,
      compare: true,
    }],
    ["hours, event totals (from the hourly rollup once it ran), compare, formula", {
      series: [{ event: "a" }, { event: null }],
      from: back(2),
      to: back(0),
      bucket: "hour",
      compare: true,
      formula: "A / B",
    }],
    ["months, five series, nested breakdown", {
      series: [
        { event: "a", filters: [{ property: "plan", op: "contains", value: "PRO" }] },
        { event: "b", filters: [{ property: "plan", op: "in", value: ["free", "team"] }] },
        { event: "c", filters: [{ property: "ms", op: "lt", value: 100 }] },
        { event: "a", math: "unique", filters: [{ property: "meta", op: "is_not_set" }] },
        { event: "b", filters: [{ property: "plan", op: "eq", value: "pro" }] },
      ],
      from: back(19),
      to: back(0),
      bucket: "month",
      breakdown: "meta",
      formula: "(A + B) / (C - D) * -E + 2",
    }],
    ["a hostile property name", {
      series: [
        { event: "a", math: "sum", property: HOSTILE },
        { event: "b", filters: [{ property: HOSTILE, op: "eq", value: "a'b" }] },
        { event: "c", filters: [{ property: HOSTILE, op: "is_set" }] },
      ],
      from: back(12),
      to: back(0),
      breakdown: HOSTILE,
      breakdown_top: 3,
      formula: "A / (B - B)",
    }],
    ["a hostile property name, tracked once the days are closed", {
      series: [{ event: "b" }, { event: "b", math: "unique" }],
      from: back(10),
      to: back(0),
      bucket: "week",
      breakdown: HOSTILE,
      breakdown_top: 2,
      compare: true,
    }],
    ["tracked breakdown by day over closed days", {
      series: [{ event: "a" }, { event: "b", math: "unique" }, { event: "c" }],
      from: back(15),
      to: back(0),
      breakdown: "plan",
      breakdown_top: 3,
      compare: true,
      formula: "B / A",
    }],
    ["no breakdown, actor rollup, by week", {
      series: [{ event: "a" }, { event: "a", math: "unique" }, { event: null, math: "unique" }],
      from: back(19),
      to: back(0),
      bucket: "week",
    }],
  ];
}

function key(r: TrendRow) {
  return `${r.series}|${r.period}|${r.rank}|${r.value}|${r.index}|${r.start}`;
}

async function checkAgainstModel(db: Queryable, now: number, label: string) {
  const events = await stored(db);
  for (const [name, def] of cases(now)) {
    const rows = await db.query<Record<string, unknown>>(
      "select * from analytics.trend($1::text::jsonb)",
      [JSON.stringify(def)],
    );
    const actual = new Map(rows.map((r) => {
      const row: TrendRow = {
        series: String(r.series),
        period: String(r.period),
        index: Number(r.bucket_index),
        start: new Date(r.bucket_start as string).toISOString(),
        value: r.breakdown_value as string | null,
        rank: Number(r.breakdown_rank),
        result: r.value === null ? null : Number(r.value),
      };
      return [key(row), row];
    }));
    const expected = modelTrend(events, def);
    assert.equal(rows.length, expected.length, `${label} ${name}: row count`);
    assert.ok(expected.some((e) => (e.result ?? 0) > 0), `${label} ${name}: some data`);
    for (const e of expected) {
      const a = actual.get(key(e));
      assert.ok(a, `${label} ${name}: a row for ${key(e)}`);
      if (e.result === null) assert.equal(a.result, null, `${label} ${name}: ${key(e)} is null`);
      else {
        assert.ok(
          a.result !== null &&
            Math.abs(a.result - e.result) <= 1e-6 * Math.max(1, Math.abs(e.result)),
          `${label} ${name}: ${key(e)}: ${a.result} vs ${e.result}`,
        );
      }
    }
  }
}

async function checkRefusals(db: Database, label: string) {
  const a = { event: "a" };
  const bad: Array<[string, unknown, string]> = [
    ["no series", { series: [] }, "series"],
    ["six series", { series: Array(6).fill(a) }, "series"],
    ["a bad math", { series: [a, { event: "b", math: "max" }] }, "series[2].math"],
    ["sum without property", { series: [{ event: "a", math: "sum" }] }, "series[1].property"],
    [
      "a bad op",
      { series: [{ event: "a", filters: [{ property: "x", op: "like", value: 1 }] }] },
      "series[1].filters[1].op",
    ],
    ["a letter without series", { series: [a], formula: "A / B" }, "formula"],
    ["an unbalanced formula", { series: [a, a], formula: "(A + B" }, "formula"],
    ["SQL in a formula", { series: [a], formula: "A; drop table x" }, "formula"],
    [
      "hours over a month",
      { series: [a], bucket: "hour", from: "2026-01-01", to: "2026-01-31" },
      "bucket",
    ],
    ["a bad bucket", { series: [a], bucket: "year" }, "bucket"],
    ["from after to", { series: [a], from: "2026-02-01", to: "2026-01-01" }, "from"],
    ["a bad day", { series: [a], to: "2026-02-30" }, "to"],
    ["a bad top", { series: [a], breakdown: "x", breakdown_top: 0 }, "breakdown_top"],
    ["not an object", [a], "definition"],
  ];
  for (const [name, def, field] of bad) {
    await assert.rejects(
      db.query("select * from analytics.trend($1::text::jsonb)", [JSON.stringify(def)]),
      (e: { code?: string; message?: string }) => {
        assert.equal(e.code, "22023", `${label} ${name}: SQLSTATE (${e.message})`);
        assert.ok(
          e.message?.startsWith(`analytics.trend: ${field}`),
          `${label} ${name}: names ${field}: ${e.message}`,
        );
        return true;
      },
    );
  }
}

/**
 * Once the hourly rollup ran, hour buckets of event totals equal the model still, and the
 * closed hours come from analytics.hourly_events (a change there shows in the answer).
 */
async function hourBucketsFromTheHourlyRollup(db: Database, now: number, label: string) {
  await db.query("select analytics.run_hourly_rollup()");
  const [{ closed }] = await db.query<{ closed: number }>(
    "select count(*)::int as closed from analytics.closed_hours",
  );
  assert.ok(closed > 24, `${label}: the hourly rollup closed the past hours`);
  await checkAgainstModel(db, now, `${label} (hourly rollup)`);
  const def = JSON.stringify({
    series: [{ event: "a" }],
    from: utcDay(now - 2 * DAY_MS),
    bucket: "hour",
  });
  const sum = async () =>
    Number(
      (await db.query<{ s: string }>(
        "select sum(value)::text as s from analytics.trend($1::text::jsonb)",
        [def],
      ))[0].s,
    );
  const before = await sum();
  const where = `event_type = 'a' and hour = (select max(h.hour) from analytics.hourly_events h
                  where h.event_type = 'a' and h.hour >= now() - interval '2 days')`;
  const [{ n }] = await db.query<{ n: number }>(
    `select count(*)::int as n from analytics.hourly_events where ${where}`,
  );
  assert.equal(n, 1, `${label}: an hour of a's events is rolled up`);
  await db.query(`update analytics.hourly_events set events = events + 1000 where ${where}`);
  assert.equal(
    await sum(),
    before + 1000,
    `${label}: analytics.hourly_events answers closed hours`,
  );
  await db.query(`update analytics.hourly_events set events = events - 1000 where ${where}`);
}

async function run(db: Database, seed: number, label: string) {
  const now = Date.now();
  await load(db, generate(seed, now));
  await checkAgainstModel(db, now, `${label} (events)`);
  await checkRefusals(db, label);
  // Track properties (one before closing, one after), close the days: the rollups answer.
  await db.query(
    `insert into analytics.tracked_properties (event_type, property) values ('a', 'plan'), ('b', $1)`,
    [HOSTILE],
  );
  await db.query("select analytics.run_daily_aggregation()");
  await db.query(
    `insert into analytics.tracked_properties (event_type, property) values ('b', 'plan'), ('c', 'plan')`,
  );
  const rolled = await db.query<{ n: number }>(
    "select count(*)::int as n from analytics.property_days where property = 'plan'",
  );
  assert.ok(rolled[0].n > 0, `${label}: the tracked properties are rolled up`);
  // A late event on a closed day, then the day closed again.
  const late = now - 5 * DAY_MS;
  await load(db, [{
    type: "a",
    userId: null,
    anonymousId: "late",
    payload: { plan: "pro" },
    at: late,
  }]);
  await db.query("select analytics.aggregate_day($1::date)", [utcDay(late)]);
  await checkAgainstModel(db, now, `${label} (rollups)`);
  // The closed days come from the rollups: a change there shows in the answer.
  const def = (breakdown: string | null) =>
    JSON.stringify({ series: [{ event: "a" }], from: utcDay(now - 9 * DAY_MS), breakdown });
  const sum = async (breakdown: string | null) =>
    Number(
      (await db.query<{ s: string }>(
        "select sum(value)::text as s from analytics.trend($1::text::jsonb)",
        [def(breakdown)],
      ))[0].s,
    );
  const day = utcDay(now - 3 * DAY_MS);
  for (
    const [breakdown, table, where] of [
      ["plan", "analytics.property_days", "event_type = 'a' and property = 'plan'"],
      [null, "analytics.daily_metrics", "metric = 'events' and dimension = 'a'"],
    ] as const
  ) {
    const before = await sum(breakdown);
    const column = table.endsWith("metrics") ? "value" : "events";
    // One row changed, and the same row changed back (found again by its new ctid).
    const [{ at }] = await db.query<{ at: string }>(
      `update ${table} set ${column} = ${column} + 1000
        where ${where} and day = $1::date and ctid = (select min(ctid) from ${table} where ${where} and day = $1::date)
       returning ctid::text as at`,
      [day],
    );
    assert.equal(await sum(breakdown), before + 1000, `${label}: ${table} answers closed days`);
    await db.query(`update ${table} set ${column} = ${column} - 1000 where ctid = $1::tid`, [at]);
    assert.equal(await sum(breakdown), before, `${label}: ${table} back as it was`);
  }
  await hourBucketsFromTheHourlyRollup(db, now, label);
  await db.query(`delete from analytics.tracked_properties where property = $1`, [HOSTILE]);
  const gone = await db.query<{ n: number }>(
    "select count(*)::int as n from analytics.property_days where property = $1",
    [HOSTILE],
  );
  assert.equal(gone[0].n, 0, `${label}: an untracked property's rollup is dropped`);
}

Deno.test("trends on PGlite equal the TypeScript computation", async () => {
  const db = await openMigratedPglite();
  try {
    await run(db, 7, "PGlite");
  } finally {
    await db.close();
  }
});

Deno.test({
  name: "trends on PostgreSQL 15 equal the TypeScript computation",
  ignore: skipWithoutPostgres15(missing),
  async fn() {
    const { pg, db } = await startMigratedPostgres15();
    try {
      await run(db, 31, "PostgreSQL 15");
    } finally {
      await db.close();
      await pg.stop();
    }
  },
});
