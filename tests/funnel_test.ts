/**
 * analytics.funnel and analytics.funnel_dropoffs against an independent TypeScript
 * computation (tests/support/funnel_model.ts) on random data, on PostgreSQL 15 and on
 * PGlite; and the arguments they refuse.
 */
import assert from "node:assert/strict";
import { missingPostgres15, skipWithoutPostgres15 } from "./support/postgres15.ts";
import { openMigratedPglite, startMigratedPostgres15 } from "./support/database.ts";
import { utcDay } from "./support/random_data.ts";
import {
  modelAttempts,
  modelFunnel,
  type ModelRow,
  type ModelStep,
  subscriptionEvents,
} from "./support/funnel_model.ts";
import { type FunnelData, generateFunnelData, loadFunnelData } from "./support/funnel_data.ts";
import type { Database, Queryable } from "../database/mod.ts";

const missing = await missingPostgres15();
const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;

interface Case {
  name: string;
  steps: ModelStep[];
  fromBack: number;
  toBack: number;
  windowMs: number;
  breakdown?: string;
  top?: number;
}

const CASES: Case[] = [
  {
    name: "three steps, breakdown",
    steps: [{ event: "a" }, { event: "b" }, { event: "c" }],
    fromBack: 15,
    toBack: 5,
    windowMs: 3 * DAY_MS,
    breakdown: "src",
    top: 2,
  },
  {
    name: "a repeated step",
    steps: [{ event: "a" }, { event: "a" }, { event: "b" }],
    fromBack: 19,
    toBack: 0,
    windowMs: 2 * DAY_MS,
  },
  {
    name: "a short window",
    steps: [{ event: "b" }, { event: "c" }],
    fromBack: 10,
    toBack: 3,
    windowMs: 5 * HOUR_MS,
    breakdown: "plan",
    top: 5,
  },
  {
    name: "filters",
    steps: [
      { event: "a", filters: [{ property: "plan", op: "neq", value: "free" }] },
      {
        event: "b",
        filters: [{ property: "src", op: "in", value: ["ads", "blog"] }, {
          property: "n",
          op: "gt",
          value: 20,
        }],
      },
      {
        event: "c",
        filters: [{ property: "plan", op: "contains", value: "pro" }, {
          property: "n",
          op: "lt",
          value: 90,
        }],
      },
      { event: "d", filters: [{ property: "src", op: "is_set" }] },
      {
        event: "a",
        filters: [{ property: "n", op: "is_not_set" }, {
          property: "plan",
          op: "eq",
          value: "pro",
        }],
      },
    ],
    fromBack: 20,
    toBack: 0,
    windowMs: 10 * DAY_MS,
  },
  {
    name: "lead to customer",
    steps: [{ event: "$anonymous" }, { event: "user_signup" }, { event: "subscription_paid" }],
    fromBack: 20,
    toBack: 0,
    windowMs: 30 * DAY_MS,
  },
  {
    name: "trial to paid",
    steps: [{ event: "subscription_trial_started" }, {
      event: "subscription_paid",
      filters: [{ property: "plan", op: "eq", value: "pro" }],
    }],
    fromBack: 20,
    toBack: 1,
    windowMs: 30 * DAY_MS,
  },
  {
    name: "ten steps",
    steps: ["a", "b", "a", "c", "d", "b", "a", "c", "d", "a"].map((event) => ({ event })),
    fromBack: 20,
    toBack: 0,
    windowMs: 12 * DAY_MS,
    breakdown: "src",
    top: 1,
  },
];

function asRows(rows: Record<string, unknown>[]): ModelRow[] {
  const num = (v: unknown) => v === null ? null : Number(v);
  return rows.map((r) => ({
    rank: Number(r.breakdown_rank),
    value: r.breakdown_value as string | null,
    step: Number(r.step),
    persons: Number(r.persons),
    fromPrevious: num(r.conversion_from_previous),
    fromFirst: num(r.conversion_from_first),
    p50: num(r.median_seconds),
    p90: num(r.p90_seconds),
  }));
}

function assertRowsEqual(actual: ModelRow[], expected: ModelRow[], label: string) {
  assert.equal(actual.length, expected.length, `${label}: row count`);
  actual.forEach((a, i) => {
    const e = expected[i];
    const where = `${label}: rank ${e.rank} step ${e.step}`;
    assert.deepEqual(
      [a.rank, a.value, a.step, a.persons, a.fromPrevious, a.fromFirst],
      [e.rank, e.value, e.step, e.persons, e.fromPrevious, e.fromFirst],
      where,
    );
    for (const key of ["p50", "p90"] as const) {
      if (e[key] === null) assert.equal(a[key], null, `${where} ${key}`);
      else {assert.ok(
          Math.abs(a[key]! - e[key]!) < 0.002,
          `${where} ${key}: ${a[key]} vs ${e[key]}`,
        );}
    }
  });
}

async function checkAgainstModel(db: Queryable, data: FunnelData, now: number, label: string) {
  const events = [...data.events, ...subscriptionEvents(data.subscriptions, now)];
  for (const c of CASES) {
    const from = utcDay(now - c.fromBack * DAY_MS);
    const to = utcDay(now - c.toBack * DAY_MS);
    const attempts = modelAttempts(events, c.steps, from, to, c.windowMs, c.breakdown ?? null);
    const expected = modelFunnel(attempts, c.steps.length, c.breakdown ?? null, c.top ?? 5);
    assert.ok(expected[0].persons > 5, `${c.name}: enough persons enter (${expected[0].persons})`);
    const rows = await db.query<Record<string, unknown>>(
      `select * from analytics.funnel($1::text::jsonb, $2::date, $3::date, make_interval(secs => $4::float8 / 1000), $5, $6)`,
      [JSON.stringify(c.steps), from, to, c.windowMs, c.breakdown ?? null, c.top ?? 5],
    );
    assertRowsEqual(asRows(rows), expected, `${label} ${c.name}`);
    for (let k = 2; k <= c.steps.length; k++) {
      const dropped = await db.query<
        { person_id: string; user_id: string | null; anonymous_id: string | null }
      >(
        `select person_id, user_id::text, anonymous_id
           from analytics.funnel_dropoffs($1::text::jsonb, $2::date, $3::date, make_interval(secs => $4::float8 / 1000), $5, 10000)`,
        [JSON.stringify(c.steps), from, to, c.windowMs, k],
      );
      const want = attempts.filter((a) => a.times.length === k - 1);
      assert.deepEqual(
        dropped.map((d) => d.person_id).sort(),
        want.map((a) => a.person).sort(),
        `${label} ${c.name}: who dropped off at step ${k}`,
      );
      for (const d of dropped) {
        const a = want.find((x) => x.person === d.person_id)!;
        assert.equal(
          d.user_id,
          a.isUser ? a.person : null,
          `${label} ${c.name}: user id of ${d.person_id}`,
        );
        assert.equal(
          d.anonymous_id,
          a.isUser ? null : a.person,
          `${label} ${c.name}: anonymous id of ${d.person_id}`,
        );
      }
    }
  }
}

async function checkRefusals(db: Database, label: string) {
  const two = JSON.stringify([{ event: "a" }, { event: "b" }]);
  const bad: Array<[string, unknown[], string]> = [
    [
      "one step",
      [JSON.stringify([{ event: "a" }]), "2026-01-01", "2026-01-31", "14 days"],
      "steps",
    ],
    ["eleven steps", [
      JSON.stringify(Array.from({ length: 11 }, () => ({ event: "a" }))),
      "2026-01-01",
      "2026-01-31",
      "14 days",
    ], "steps"],
    ["an unknown op", [
      JSON.stringify([{ event: "a", filters: [{ property: "x", op: "like", value: "y" }] }, {
        event: "b",
      }]),
      "2026-01-01",
      "2026-01-31",
      "14 days",
    ], "steps[1].filters[1].op"],
    ["a negative window", [two, "2026-01-01", "2026-01-31", "-1 day"], "conversion_window"],
    ["from after to", [two, "2026-02-01", "2026-01-31", "14 days"], "from_day"],
    ["a step without event", [
      JSON.stringify([{ event: "a" }, { filters: [] }]),
      "2026-01-01",
      "2026-01-31",
      "14 days",
    ], "steps[2].event"],
    ["gt without a number", [
      JSON.stringify([{ event: "a", filters: [{ property: "n", op: "gt", value: "3" }] }, {
        event: "b",
      }]),
      "2026-01-01",
      "2026-01-31",
      "14 days",
    ], "steps[1].filters[1].value"],
  ];
  for (const [name, params, field] of bad) {
    await assert.rejects(
      db.query(
        "select * from analytics.funnel($1::text::jsonb, $2::date, $3::date, $4::interval)",
        params,
      ),
      (e: { code?: string; message?: string }) => {
        assert.equal(e.code, "22023", `${label} ${name}: SQLSTATE`);
        assert.ok(e.message?.includes(field), `${label} ${name}: names ${field}: ${e.message}`);
        return true;
      },
    );
  }
  await assert.rejects(
    db.query(
      `select * from analytics.funnel_dropoffs($1::text::jsonb, '2026-01-01', '2026-01-31', '14 days', 3)`,
      [two],
    ),
    (e: { code?: string; message?: string }) =>
      e.code === "22023" && e.message!.includes("dropped_at"),
  );
}

Deno.test("funnels on PGlite equal the TypeScript computation", async () => {
  const now = Date.now();
  const data = generateFunnelData(11, now);
  const db = await openMigratedPglite();
  try {
    await loadFunnelData(db, data);
    await checkAgainstModel(db, data, now, "PGlite");
    await checkRefusals(db, "PGlite");
  } finally {
    await db.close();
  }
});

Deno.test({
  name: "funnels on PostgreSQL 15 equal the TypeScript computation",
  ignore: skipWithoutPostgres15(missing),
  async fn() {
    const now = Date.now();
    const data = generateFunnelData(23, now);
    const { pg, db } = await startMigratedPostgres15();
    try {
      await loadFunnelData(db, data);
      await checkAgainstModel(db, data, now, "PostgreSQL 15");
      await checkRefusals(db, "PostgreSQL 15");
    } finally {
      await db.close();
      await pg.stop();
    }
  },
});
