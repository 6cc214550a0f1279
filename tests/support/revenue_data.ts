/**
 * Random but reproducible subscription histories for the revenue reports, as a Supabase app
 * writes them: a plan change ends one row and starts the next at the same instant; a cancel
 * ends a row (sometimes in the future: at period end); a reactivation is a new row after a
 * gap; trials convert on time (the row itself), late (a later row) or never; several
 * currencies, some with rates that change, one without any.
 *
 * @module
 */
import type { Queryable } from "../../database/mod.ts";
import { prng, type TestSubscription } from "./random_data.ts";

const DAY_MS = 86_400_000;

/** An exchange-rate row. */
export interface TestRate {
  currency: string;
  rate: number;
  /** `YYYY-MM-DD`. */
  validFrom: string;
}

/** Subscriptions and rates. */
export interface RevenueData {
  users: string[];
  subscriptions: TestSubscription[];
  rates: TestRate[];
}

/** Options for {@linkcode generateRevenueData}. */
export interface RevenueOptions {
  seed: number;
  /** "Now" in ms. */
  now: number;
  /** How many customers. */
  customers: number;
  /** How many days back histories start. @default {150} */
  days?: number;
}

function uuid(random: () => number): string {
  const h = Array.from({ length: 32 }, () => Math.floor(random() * 16).toString(16));
  h[12] = "4";
  h[16] = "89ab"[Math.floor(random() * 4)];
  const s = h.join("");
  return `${s.slice(0, 8)}-${s.slice(8, 12)}-${s.slice(12, 16)}-${s.slice(16, 20)}-${s.slice(20)}`;
}

const PLANS: Array<[string, number]> = [["free", 0], ["basic", 900], ["pro", 2900], [
  "team",
  9900,
], ["scale", 24_900]];
const CURRENCIES = ["USD", "USD", "USD", "EUR", "EUR", "GBP", "JPY"];

function day(at: number): string {
  return new Date(at).toISOString().slice(0, 10);
}

/**
 * Generates customers' histories over the last `days` days (some reaching into the future).
 *
 * @param o Seed, now, size.
 * @returns Users, subscriptions and rates (EUR from before the data with two changes, GBP
 * only from 30 days ago, JPY never).
 */
export function generateRevenueData(o: RevenueOptions): RevenueData {
  const random = prng(o.seed);
  const span = (o.days ?? 150) * DAY_MS;
  const start = o.now - span;
  const pick = <T>(xs: T[]): T => xs[Math.floor(random() * xs.length)];
  const users: string[] = [];
  const subscriptions: TestSubscription[] = [];
  // An instant: mostly random, sometimes exactly midnight UTC (the day boundary).
  const instant = (at: number) =>
    random() < 0.1 ? Math.floor(at / DAY_MS) * DAY_MS : Math.floor(at / 1000) * 1000;
  for (let i = 0; i < o.customers; i++) {
    const userId = uuid(random);
    users.push(userId);
    const currency = pick(CURRENCIES);
    let t = instant(start + random() * span * 0.9);
    let [plan, price] = pick(PLANS);
    let interval: "month" | "year" = random() < 0.25 ? "year" : "month";
    const amount = () => interval === "year" ? price * 10 + Math.floor(random() * 100) : price;
    const row = (
      from: number,
      trialEnds: number | null,
      canceled: number | null,
      cur = currency,
    ): TestSubscription => {
      const s: TestSubscription = {
        id: uuid(random),
        userId,
        plan,
        status: canceled !== null && canceled <= o.now
          ? "canceled"
          : random() < 0.1
          ? "past_due"
          : "active",
        amountCents: amount(),
        currency: cur,
        billingInterval: interval,
        startedAt: from,
        trialEndsAt: trialEnds,
        canceledAt: canceled,
      };
      subscriptions.push(s);
      return s;
    };
    let trialForFirst: number | null = null;
    if (random() < 0.4) {
      // A trial of 14 days.
      const trialEnd = t + 14 * DAY_MS;
      const outcome = random();
      if (trialEnd > o.now && outcome < 0.5) {
        row(t, trialEnd, null).status = "trialing";
        continue;
      }
      if (outcome < 0.25) { // never converts: canceled during the trial or at its end
        row(
          t,
          trialEnd,
          random() < 0.3 ? trialEnd : Math.max(t, instant(t + random() * 13 * DAY_MS)),
        );
        continue;
      }
      if (outcome < 0.45) { // converts late: the trial row ends, a new row starts later
        row(t, trialEnd, trialEnd);
        t = instant(trialEnd + (1 + random() * 20) * DAY_MS);
        if (t > o.now) continue;
      } else { // converts on time: the trial row goes on paying
        trialForFirst = trialEnd;
      }
    }
    // Paid periods: plan changes, cancels, reactivations.
    for (let k = 0; k < 6; k++) {
      const end = instant(Math.max(t, trialForFirst ?? t) + (2 + random() * 60) * DAY_MS);
      const last = k === 5 || random() < 0.25;
      if (last && random() < 0.5) {
        row(t, trialForFirst, null);
        break;
      }
      row(t, trialForFirst, end, random() < 0.05 ? pick(CURRENCIES) : currency);
      trialForFirst = null;
      if (end > o.now + 20 * DAY_MS) break;
      if (random() < 0.55) { // plan change at once: up, down, or to the other interval
        [plan, price] = pick(PLANS);
        if (random() < 0.2) interval = interval === "year" ? "month" : "year";
        t = end;
      } else { // cancel; perhaps come back later
        if (random() < 0.4) break;
        t = instant(end + (1 + random() * 30) * DAY_MS);
        if (random() < 0.3) [plan, price] = pick(PLANS);
      }
      if (t > o.now + 10 * DAY_MS) break;
    }
  }
  const back = (n: number) => day(o.now - n * DAY_MS);
  const rates: TestRate[] = [
    { currency: "EUR", rate: 1.08, validFrom: back(400) },
    { currency: "EUR", rate: 1.1234, validFrom: back(60) },
    { currency: "EUR", rate: 1.05, validFrom: back(9) },
    { currency: "GBP", rate: 1.27, validFrom: back(30) },
    { currency: "GBP", rate: 1.3, validFrom: back(29) },
    { currency: "USD", rate: 2, validFrom: back(100) }, // the reporting currency: ignored
  ];
  return { users, subscriptions, rates };
}

/**
 * Inserts the users, their subscriptions and the rates (as the migration role).
 *
 * @param db The database.
 * @param data What to insert.
 */
export async function insertRevenueData(db: Queryable, data: RevenueData): Promise<void> {
  await db.query(
    `insert into auth.users (id, email, aud, role, raw_app_meta_data)
     select u, 'rev-' || u || '@revenue.test', 'authenticated', 'authenticated', '{"provider":"email"}'
       from unnest($1::text[]::uuid[]) u`,
    [data.users],
  );
  const iso = (ms: number | null) => ms === null ? null : new Date(ms).toISOString();
  await db.query(
    `insert into public.subscriptions (id, user_id, plan, status, amount_cents, currency, billing_interval,
                                       started_at, trial_ends_at, canceled_at)
     select * from jsonb_to_recordset($1::text::jsonb) as s (id uuid, user_id uuid, plan text, status text,
       amount_cents bigint, currency text, billing_interval text, started_at timestamptz,
       trial_ends_at timestamptz, canceled_at timestamptz)`,
    [JSON.stringify(data.subscriptions.map((s) => ({
      id: s.id,
      user_id: s.userId,
      plan: s.plan,
      status: s.status,
      amount_cents: s.amountCents,
      currency: s.currency,
      billing_interval: s.billingInterval,
      started_at: iso(s.startedAt),
      trial_ends_at: iso(s.trialEndsAt),
      canceled_at: iso(s.canceledAt),
    })))],
  );
  await db.query(
    `insert into analytics.exchange_rates (currency, rate_to_reporting, valid_from)
     select * from jsonb_to_recordset($1::text::jsonb) as r (currency text, rate numeric, "validFrom" date)`,
    [JSON.stringify(data.rates)],
  );
}
