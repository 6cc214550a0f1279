/**
 * Revenue reports (analytics.mrr_movements, revenue_churn, trial_conversion) against the
 * brute-force computation of tests/support/revenue_model.ts on random subscription
 * histories (plan changes up and down, cancels and reactivations mid-day and at midnight,
 * cancels in the future, trials converting on time, late or never, four currencies: EUR
 * with rate changes, GBP with a rate only lately, JPY without one), on PostgreSQL 15 and
 * PGlite; then in another reporting currency; bad arguments are 22023 naming them.
 */
import assert from "node:assert/strict";
import { missingPostgres15, skipWithoutPostgres15 } from "./support/postgres15.ts";
import { openMigratedPglite, startMigratedPostgres15 } from "./support/database.ts";
import { utcDay } from "./support/random_data.ts";
import { generateRevenueData, insertRevenueData } from "./support/revenue_data.ts";
import {
  expectedChurn,
  type ExpectedDay,
  expectedMovements,
  expectedTrials,
} from "./support/revenue_model.ts";
import type { Database } from "../database/mod.ts";
import { actAsUser } from "../database/act_as.ts";

const missing = await missingPostgres15();
const DAY_MS = 86_400_000;
type Row = Record<string, unknown>;

async function asSuperuser(db: Database): Promise<(sql: string, p?: unknown[]) => Promise<Row[]>> {
  const [{ id }] = await db.query<{ id: string }>(
    `select beacon.create_user('viewer-' || gen_random_uuid() || '@revenue.test', 'password-123', true)::text as id`,
  );
  return (sql, p) => actAsUser(db, { sub: id }, (tx) => tx.query<Row>(sql, p));
}

/** Compares a row of numbers (as SQL returns them, strings or numbers) with tolerance. */
function near(got: Row, want: Record<string, unknown>, keys: string[], label: string) {
  for (const k of keys) {
    const w = want[k];
    const g = got[k];
    if (w === null || w === undefined) {
      assert.equal(g, null, `${label}: ${k} should be null, is ${g}`);
      continue;
    }
    assert.ok(g !== null, `${label}: ${k} is null, expected ${w}`);
    const diff = Math.abs(Number(g) - Number(w));
    assert.ok(diff < 0.0101, `${label}: ${k} is ${g}, expected ${w}`);
  }
}

const DAY_KEYS = [
  "new_mrr",
  "expansion_mrr",
  "contraction_mrr",
  "churned_mrr",
  "reactivation_mrr",
  "net_new_mrr",
  "fx_adjustment",
  "mrr",
  "arr",
  "paying_customers",
  "new_customers",
  "churned_customers",
  "reactivated_customers",
  "arpu",
];

function roundedUnconverted(e: ExpectedDay) {
  return Object.fromEntries(
    Object.entries(e.unconverted).filter(([, v]) => v.subscriptions > 0).sort().map((
      [c, v],
    ) => [c, { mrr: Math.round(v.mrr * 100) / 100, subscriptions: v.subscriptions }]),
  );
}

async function compare(
  q: (sql: string, p?: unknown[]) => Promise<Row[]>,
  data: ReturnType<typeof generateRevenueData>,
  now: number,
  reporting: string,
) {
  const back = (n: number) => utcDay(now - n * DAY_MS);
  let movements = 0;
  const kinds = { reactivation: 0, expansion: 0, contraction: 0, fx: 0 };
  for (const [from, to] of [[back(140), back(-15)], [back(40), back(5)], [back(3), back(3)]]) {
    const rows = await q(
      `select *, to_char(day, 'YYYY-MM-DD') as day from analytics.mrr_movements($1::date, $2::date)`,
      [from, to],
    );
    const want = expectedMovements(data, from, to, reporting).slice(1);
    assert.equal(rows.length, want.length, `${from}..${to}: days`);
    for (let i = 0; i < want.length; i++) {
      const label = `${reporting} ${from}..${to} day ${want[i].day}`;
      assert.equal(rows[i].day, want[i].day, label);
      assert.equal(rows[i].currency, reporting, label);
      near(rows[i], want[i] as unknown as Row, DAY_KEYS, label);
      const raw = rows[i].unconverted;
      const u = (typeof raw === "string" ? JSON.parse(raw) : raw) as Record<
        string,
        { mrr: number; subscriptions: number }
      >;
      const w = roundedUnconverted(want[i]);
      assert.deepEqual(Object.keys(u).sort(), Object.keys(w), `${label}: unconverted currencies`);
      for (const c of Object.keys(w)) {
        assert.equal(u[c].subscriptions, w[c].subscriptions, `${label}: ${c} subscriptions`);
        assert.ok(Math.abs(u[c].mrr - w[c].mrr) < 0.0101, `${label}: ${c} mrr ${u[c].mrr}`);
      }
      movements += want[i].new_customers + want[i].churned_customers;
      kinds.reactivation += want[i].reactivated_customers;
      kinds.expansion += want[i].expansion_mrr;
      kinds.contraction += want[i].contraction_mrr;
      kinds.fx += Math.abs(want[i].fx_adjustment);
    }
  }
  assert.ok(movements > 20, `the data moves (${movements} new or churned)`);
  assert.ok(
    kinds.reactivation > 0 && kinds.expansion > 0 && kinds.contraction < 0 && kinds.fx > 0,
    `reactivations, upgrades, downgrades and rate changes happen: ${JSON.stringify(kinds)}`,
  );
  const multi = new Set(
    data.subscriptions.map((s) => `${s.userId} ${s.currency}`),
  ).size - new Set(data.subscriptions.map((s) => s.userId)).size;
  assert.ok(multi > 0, "some customers pay in two currencies");

  const churn = await q(
    `select *, to_char(month, 'YYYY-MM-DD') as month from analytics.revenue_churn($1::date, $2::date)`,
    [back(150), back(-15)],
  );
  const wantChurn = expectedChurn(data, back(150), back(-15), reporting);
  assert.equal(churn.length, wantChurn.length, "churn months");
  for (let i = 0; i < wantChurn.length; i++) {
    assert.equal(churn[i].month, wantChurn[i].month);
    near(
      churn[i],
      wantChurn[i] as unknown as Row,
      Object.keys(wantChurn[i]).slice(1),
      `${reporting} churn ${wantChurn[i].month}`,
    );
  }

  const trials = await q(
    `select *, to_char(cohort_month, 'YYYY-MM-DD') as cohort_month
       from analytics.trial_conversion($1::date, $2::date)`,
    [back(160), back(0)],
  );
  const wantTrials = expectedTrials(data, back(160), back(0), now);
  assert.equal(trials.length, wantTrials.length, "trial cohorts");
  for (let i = 0; i < wantTrials.length; i++) {
    assert.equal(trials[i].cohort_month, wantTrials[i].cohort_month);
    near(trials[i], wantTrials[i] as unknown as Row, [
      "trials",
      "converted",
      "converted_in_trial",
      "converted_late",
      "still_trialing",
      "conversion_rate",
    ], `trials ${wantTrials[i].cohort_month}`);
    const m = wantTrials[i].median_days_to_convert;
    if (m === null) assert.equal(trials[i].median_days_to_convert, null);
    else assert.ok(Math.abs(Number(trials[i].median_days_to_convert) - m) < 0.051, "median");
  }
  const t = wantTrials.reduce(
    (s, c) => ({ late: s.late + c.converted_late, no: s.no + c.trials - c.converted }),
    {
      late: 0,
      no: 0,
    },
  );
  assert.ok(t.late > 0 && t.no > 0, "some trials convert late, some never");
}

async function scenario(db: Database) {
  const now = Date.now();
  const data = generateRevenueData({ seed: 20261127, now, customers: 300 });
  await insertRevenueData(db, data);
  const q = await asSuperuser(db);
  // Computed live (nothing kept yet), then from the kept days.
  assert.equal(await keptIsRead(db), false, "nothing kept before the first refresh");
  await compare(q, data, now, "USD");
  await refresh(db, true);
  assert.equal(await keptIsRead(db), true, "the refresh keeps the days");
  await compare(q, data, now, "USD");
  // Another reporting currency: rates become relative to EUR (the USD row now counts). The
  // write makes the kept days stale: the reports compute live until the next refresh.
  await db.query(`update analytics.revenue_settings set reporting_currency = 'EUR'`);
  assert.equal(await keptIsRead(db), false, "a settings write makes the kept days stale");
  await compare(q, data, now, "EUR");
  await refresh(db, true);
  await compare(q, data, now, "EUR");
  await db.query(`update analytics.revenue_settings set reporting_currency = 'USD'`);
  await refresh(db, true);
  await aSubscriptionShowsAtOnce(db, q);
  // summary() still counts USD subscriptions only, in USD.
  const [s] = await q(`select mrr_estimate_usd from analytics.summary()`);
  const usd = data.subscriptions.filter((x) =>
    x.currency === "USD" && x.status !== "trialing" &&
    Math.max(x.startedAt, x.trialEndsAt ?? 0) < now &&
    (x.canceledAt === null || x.canceledAt >= now)
  ).reduce((t, x) => t + (x.billingInterval === "year" ? x.amountCents / 12 : x.amountCents), 0);
  assert.ok(Math.abs(Number(s.mrr_estimate_usd) - usd / 100) < 0.011, "summary's USD MRR");
}

/** Whether the revenue reports would read the kept days for the last 12 months now. */
async function keptIsRead(db: Database): Promise<boolean> {
  const [{ kept }] = await db.query<{ kept: boolean }>(
    `select exists (select 1 from private.revenue_days_state st
                     where st.first_day <= current_date - 366 and st.last_day >= current_date
                       and st.change_seen = (select last_value from private.revenue_changes)) as kept`,
  );
  return kept;
}

/** Runs the hourly refresh of the kept days; returns whether it recomputed them. */
async function refresh(db: Database, expectRecompute: boolean): Promise<void> {
  const [{ done }] = await db.query<{ done: string | { refreshed: boolean } }>(
    "select beacon.refresh_revenue_report() as done",
  );
  const result = typeof done === "string" ? JSON.parse(done) : done;
  assert.equal(result.refreshed, expectRecompute, "refreshed when (and only when) stale");
}

/**
 * After a refresh, a new paying subscription (and an exchange-rate write) shows in today's
 * MRR at once, not at the next refresh; a second refresh with nothing changed does nothing.
 */
async function aSubscriptionShowsAtOnce(
  db: Database,
  q: (sql: string, p?: unknown[]) => Promise<Row[]>,
) {
  await refresh(db, false);
  const today =
    `select mrr::float8 as mrr from analytics.mrr_movements(current_date, current_date)`;
  const [before] = await q(today);
  const [{ id }] = await db.query<{ id: string }>(
    `select beacon.create_user('payer-' || gen_random_uuid() || '@revenue.test', 'password-123')::text as id`,
  );
  await db.query(
    `insert into public.subscriptions (user_id, plan, status, amount_cents, currency, started_at)
     values ($1, 'pro', 'active', 12345, 'USD', now() - interval '2 days')`,
    [id],
  );
  const [after] = await q(today);
  assert.ok(
    Math.abs(Number(after.mrr) - Number(before.mrr) - 123.45) < 0.001,
    `today's MRR grows by the new subscription at once (${before.mrr} -> ${after.mrr})`,
  );
  await refresh(db, true);
  const [kept] = await q(today);
  assert.equal(Number(kept.mrr), Number(after.mrr), "the kept days agree after the refresh");
  await db.query(`delete from public.subscriptions where user_id = $1`, [id]);
  const [gone] = await q(today);
  assert.equal(Number(gone.mrr), Number(before.mrr), "a delete shows at once too");
  await refresh(db, true);
}

async function badArguments(db: Database) {
  const q = await asSuperuser(db);
  const cases: Array<[string, string]> = [
    [`select * from analytics.mrr_movements(null, current_date)`, "from_day"],
    [`select * from analytics.mrr_movements(current_date, null)`, "to_day"],
    [`select * from analytics.mrr_movements(current_date, current_date - 1)`, "from_day"],
    [`select * from analytics.mrr_movements(current_date - 1000, current_date)`, "from_day"],
    [`select * from analytics.revenue_churn(null, current_date)`, "from_month"],
    [`select * from analytics.revenue_churn(current_date, current_date - 40)`, "from_month"],
    [`select * from analytics.trial_conversion(current_date, null)`, "to_month"],
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
  name: "revenue reports match an independent computation on PostgreSQL 15",
  ignore: skipWithoutPostgres15(missing),
  async fn(t) {
    const { pg, db } = await startMigratedPostgres15();
    try {
      await t.step("random subscriptions in four currencies", () => scenario(db));
      await t.step("bad arguments raise 22023 naming the argument", () => badArguments(db));
    } finally {
      await db.close();
      await pg.stop();
    }
  },
});

Deno.test("revenue reports match an independent computation on PGlite", async (t) => {
  const db = await openMigratedPglite();
  try {
    await t.step("random subscriptions in four currencies", () => scenario(db));
    await t.step("bad arguments raise 22023 naming the argument", () => badArguments(db));
  } finally {
    await db.close();
  }
});
