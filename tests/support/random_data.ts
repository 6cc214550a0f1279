/**
 * Random but reproducible analytics data for tests, a loader for it, and an independent
 * TypeScript computation of every daily metric to check the SQL rollup against.
 *
 * @module
 */
import type { Queryable } from "../../database/mod.ts";

const DAY_MS = 86_400_000;

/** A user, created in `auth.users` (which records their signup event). */
export interface TestUser {
  id: string;
  email: string;
  createdAt: number;
  /** How many days after signing up the user stays active. */
  lifeDays: number;
}

/** An event as stored, with the timestamp written in some UTC offset. */
export interface TestEvent {
  id: string;
  eventType: string;
  userId: string | null;
  anonymousId: string | null;
  /** Milliseconds since the epoch. */
  at: number;
  /** The same instant written as ISO 8601 with a non-UTC offset (what clients send). */
  timestamp: string;
}

/** A subscription row. */
export interface TestSubscription {
  id: string;
  userId: string;
  plan: string;
  status: "trialing" | "active" | "past_due" | "canceled";
  amountCents: number;
  currency: string;
  billingInterval: "month" | "year";
  startedAt: number;
  trialEndsAt: number | null;
  canceledAt: number | null;
}

/** A whole data set. */
export interface TestData {
  users: TestUser[];
  events: TestEvent[];
  subscriptions: TestSubscription[];
}

/** Options for {@linkcode generateData}. */
export interface GenerateOptions {
  /** PRNG seed. */
  seed: number;
  /** "Now": the end of the data (defaults to the real now). */
  now?: number;
  /** How many days back the data starts. @default {35} */
  days?: number;
  /** How many users. @default {300} */
  users?: number;
  /** How many events besides signups. @default {12000} */
  events?: number;
}

/** A small deterministic PRNG (mulberry32). */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function uuid(random: () => number): string {
  const hex = Array.from(
    { length: 32 },
    () => Math.floor(random() * 16).toString(16),
  );
  hex[12] = "4";
  hex[16] = "89ab"[Math.floor(random() * 4)];
  const s = hex.join("");
  return `${s.slice(0, 8)}-${s.slice(8, 12)}-${s.slice(12, 16)}-${s.slice(16, 20)}-${s.slice(20)}`;
}

const OFFSETS_MIN = [0, 330, -480, 840, -210, 60, -600];

/** Writes an instant as ISO 8601 in the given UTC offset, e.g. `2026-11-20T07:30:00.000+05:30`. */
export function isoWithOffset(at: number, offsetMinutes: number): string {
  const local = new Date(at + offsetMinutes * 60_000).toISOString().slice(
    0,
    -1,
  );
  if (offsetMinutes === 0) return `${local}Z`;
  const sign = offsetMinutes > 0 ? "+" : "-";
  const abs = Math.abs(offsetMinutes);
  const hh = String(Math.floor(abs / 60)).padStart(2, "0");
  const mm = String(abs % 60).padStart(2, "0");
  return `${local}${sign}${hh}:${mm}`;
}

/** The UTC day of an instant, as `YYYY-MM-DD`. */
export function utcDay(at: number): string {
  return new Date(at).toISOString().slice(0, 10);
}

/** Generates a data set: users, events (signed-in and anonymous), subscriptions. */
export function generateData(options: GenerateOptions): TestData {
  const random = prng(options.seed);
  const now = options.now ?? Date.now();
  const days = options.days ?? 35;
  const start = now - days * DAY_MS;
  const users: TestUser[] = [];
  for (let i = 0; i < (options.users ?? 300); i++) {
    users.push({
      id: uuid(random),
      email: `user${i}-${options.seed}@random.test`,
      createdAt: Math.floor(start + random() * (now - start - 60_000)),
      lifeDays: 1 + random() * 30,
    });
  }
  const types = [
    "page_view",
    "page_view",
    "feature_used",
    "button_click",
    "goal_submitted",
  ];
  const events: TestEvent[] = [];
  for (let i = 0; i < (options.events ?? 12000); i++) {
    const anonymous = random() < 0.2;
    const user = users[Math.floor(random() * users.length)];
    // Each user is active for a while after signing up, then goes quiet.
    const from = anonymous ? start : user.createdAt;
    const until = anonymous ? now : Math.min(now, user.createdAt + user.lifeDays * DAY_MS);
    const at = Math.floor(from + random() * (until - from - 1000));
    events.push({
      id: uuid(random),
      eventType: types[Math.floor(random() * types.length)],
      userId: anonymous ? null : user.id,
      anonymousId: anonymous ? `anon-${Math.floor(random() * 500)}` : null,
      at,
      timestamp: isoWithOffset(
        at,
        OFFSETS_MIN[Math.floor(random() * OFFSETS_MIN.length)],
      ),
    });
  }
  const plans: Array<[string, number, number]> = [
    ["starter", 1900, 18000],
    ["pro", 4900, 48000],
    ["business", 19900, 180000],
  ];
  const subscriptions: TestSubscription[] = [];
  for (const user of users) {
    if (random() > 0.6) continue;
    const [plan, monthly, yearly] = plans[Math.floor(random() * plans.length)];
    const interval = random() < 0.25 ? "year" : "month";
    const currency = random() < 0.1 ? "EUR" : "USD";
    const startedAt = Math.floor(user.createdAt + random() * 5 * DAY_MS);
    if (startedAt >= now) continue;
    const trialEndsAt = random() < 0.3 ? startedAt + 14 * DAY_MS : null;
    const base = {
      userId: user.id,
      amountCents: interval === "year" ? yearly : monthly,
      currency,
      billingInterval: interval as "month" | "year",
      startedAt,
      trialEndsAt,
    };
    const payingFrom = trialEndsAt ?? startedAt;
    const roll = random();
    if (trialEndsAt !== null && trialEndsAt > now) {
      subscriptions.push({
        ...base,
        id: uuid(random),
        plan,
        status: "trialing",
        canceledAt: null,
      });
    } else if (roll < 0.25) {
      // Upgrade: one row ends as the next begins.
      const at = Math.floor(payingFrom + random() * (now - payingFrom));
      subscriptions.push({
        ...base,
        id: uuid(random),
        plan,
        status: "canceled",
        canceledAt: at,
      });
      subscriptions.push({
        ...base,
        id: uuid(random),
        plan: "business",
        amountCents: interval === "year" ? 180000 : 19900,
        startedAt: at,
        trialEndsAt: null,
        status: "active",
        canceledAt: null,
      });
    } else if (roll < 0.5) {
      const at = Math.floor(payingFrom + random() * (now - payingFrom));
      subscriptions.push({
        ...base,
        id: uuid(random),
        plan,
        status: "canceled",
        canceledAt: at,
      });
    } else {
      subscriptions.push({
        ...base,
        id: uuid(random),
        plan,
        status: roll < 0.55 ? "past_due" : "active",
        canceledAt: null,
      });
    }
  }
  return { users, events, subscriptions };
}

/** Inserts users (their signups follow from the trigger) and subscriptions. */
export async function loadUsersAndSubscriptions(
  db: Queryable,
  data: TestData,
): Promise<void> {
  await db.query(
    `insert into auth.users (id, email, aud, role, raw_app_meta_data, created_at)
     select u.id, u.email, 'authenticated', 'authenticated', '{"provider":"email"}', to_timestamp(u.at / 1000.0)
       from jsonb_to_recordset($1::text::jsonb) as u (id uuid, email text, at double precision)`,
    [JSON.stringify(
      data.users.map((u) => ({ id: u.id, email: u.email, at: u.createdAt })),
    )],
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
}

/** Inserts events in one statement, timestamps as written with their offsets. */
export async function loadEvents(
  db: Queryable,
  events: TestEvent[],
): Promise<void> {
  await db.query(
    `insert into public.events (id, event_type, user_id, anonymous_id, "timestamp")
     select e.id, e.event_type, e.user_id, e.anonymous_id, e.ts
       from jsonb_to_recordset($1::text::jsonb) as e (id uuid, event_type text, user_id uuid, anonymous_id text, ts timestamptz)`,
    [JSON.stringify(events.map((e) => ({
      id: e.id,
      event_type: e.eventType,
      user_id: e.userId,
      anonymous_id: e.anonymousId,
      ts: e.timestamp,
    })))],
  );
}

/**
 * Computes every rollup row for the given days independently of the SQL, from the same
 * definitions (see analytics.metric_definitions). Keys are `day|metric|dimension`.
 */
export function expectedRollup(
  data: TestData,
  events: TestEvent[],
  days: string[],
): Map<string, number> {
  const out = new Map<string, number>();
  const add = (key: string, n: number) => out.set(key, (out.get(key) ?? 0) + n);
  // Signups are events too, timestamped at the user's creation.
  const all = [
    ...events,
    ...data.users.map((u) => ({
      eventType: "user_signup",
      userId: u.id as string | null,
      at: u.createdAt,
    })),
  ];
  const usersByDay = new Map<string, Set<string>>();
  const wanted = new Set(days);
  for (const day of days) {
    out.set(`${day}|events|`, 0);
    out.set(`${day}|signups|`, 0);
  }
  for (const e of all) {
    const day = utcDay(e.at);
    if (e.userId) {
      if (!usersByDay.has(day)) usersByDay.set(day, new Set());
      usersByDay.get(day)!.add(e.userId);
    }
    if (!wanted.has(day)) continue;
    add(`${day}|events|`, 1);
    add(`${day}|events|${e.eventType}`, 1);
    if (e.eventType === "user_signup") add(`${day}|signups|`, 1);
  }
  const distinctOver = (day: string, span: number) => {
    const set = new Set<string>();
    const end = Date.parse(`${day}T00:00:00Z`);
    for (let i = 0; i < span; i++) {
      for (const u of usersByDay.get(utcDay(end - i * DAY_MS)) ?? []) {
        set.add(u);
      }
    }
    return set.size;
  };
  const paidFrom = (s: TestSubscription) => Math.max(s.startedAt, s.trialEndsAt ?? s.startedAt);
  for (const day of days) {
    out.set(`${day}|active_users|`, distinctOver(day, 1));
    out.set(`${day}|weekly_active_users|`, distinctOver(day, 7));
    out.set(`${day}|monthly_active_users|`, distinctOver(day, 30));
    const lo = Date.parse(`${day}T00:00:00Z`);
    const hi = lo + DAY_MS;
    const paying = data.subscriptions.filter((s) =>
      s.status !== "trialing" && paidFrom(s) < hi &&
      (s.canceledAt === null || s.canceledAt >= hi)
    );
    out.set(`${day}|active_subscriptions|`, paying.length);
    const mrrByPlan = new Map<string, number>();
    let mrr = 0;
    for (const s of paying) {
      add(`${day}|active_subscriptions|${s.plan}`, 1);
      if (s.currency !== "USD") continue;
      const monthly = s.billingInterval === "year" ? s.amountCents / 12 : s.amountCents;
      mrr += monthly;
      mrrByPlan.set(s.plan, (mrrByPlan.get(s.plan) ?? 0) + monthly);
    }
    out.set(`${day}|mrr_cents|`, Math.round(mrr));
    for (const [plan, cents] of mrrByPlan) {
      out.set(`${day}|mrr_cents|${plan}`, Math.round(cents));
    }
    const others = (s: TestSubscription) =>
      data.subscriptions.filter((o) =>
        o.userId === s.userId && o.id !== s.id && o.status !== "trialing"
      );
    const started = new Set<string>();
    const churned = new Set<string>();
    for (const s of data.subscriptions) {
      if (s.status === "trialing") continue;
      const from = paidFrom(s);
      if (
        from >= lo && from < hi &&
        (s.canceledAt === null || s.canceledAt > from)
      ) {
        const change = others(s).some((o) =>
          paidFrom(o) < from && (o.canceledAt === null || o.canceledAt >= from)
        );
        if (!change) started.add(s.userId);
      }
      if (
        s.canceledAt !== null && s.canceledAt >= lo && s.canceledAt < hi &&
        from < s.canceledAt
      ) {
        const at = s.canceledAt;
        const change = others(s).some((o) =>
          paidFrom(o) <= at && (o.canceledAt === null || o.canceledAt > at)
        );
        if (!change) churned.add(s.userId);
      }
    }
    out.set(`${day}|new_subscriptions|`, started.size);
    out.set(`${day}|churned_subscriptions|`, churned.size);
  }
  return out;
}

/** Reads the rollup for the given days, keyed like {@linkcode expectedRollup}. */
export async function readRollup(
  db: Queryable,
  days: string[],
): Promise<Map<string, number>> {
  const rows = await db.query<{ key: string; value: string }>(
    `select dm.day::text || '|' || dm.metric || '|' || dm.dimension as key, dm.value::text as value
       from analytics.daily_metrics dm
      where dm.day::text = any($1::text[])`,
    [days],
  );
  return new Map(rows.map((r) => [r.key, Number(r.value)]));
}

/** Every UTC day from the first to the last, inclusive, as `YYYY-MM-DD`. */
export function dayRange(first: string, last: string): string[] {
  const out: string[] = [];
  for (
    let t = Date.parse(`${first}T00:00:00Z`);
    t <= Date.parse(`${last}T00:00:00Z`);
    t += DAY_MS
  ) {
    out.push(utcDay(t));
  }
  return out;
}
