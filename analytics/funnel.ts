/**
 * Funnels: the definition's types, the reads of analytics.funnel,
 * analytics.funnel_dropoffs as the viewer, the named funnels. The URL is read by
 * analytics/funnel_params.ts.
 *
 * The URL (the page's and the API's):
 * `?step=page_view&step=user_signup&filter=2:plan:eq:pro&from=2026-10-01&to=2026-10-30&window=14d&breakdown=utm_source&top=5`
 * - `step`, repeated in order (2 to 10): an event type, or `$anonymous`, `subscription_trial_started`, `subscription_paid`;
 * - `filter`, repeated: `<step number>:<property>:<op>:<value>` with op one of
 *   eq, neq, contains, in (values separated by commas), gt, lt (a number), is_set, is_not_set (no value);
 * - `from`/`to`: UTC days (default: the last 30 days); `window`: a number and d, h or m (default 14d);
 * - `breakdown`: a property of the first step's event; `top`: how many of its values (default 5);
 * - `funnel=lead-to-customer` or `trial-to-paid`: a named funnel, when no `step` is given.
 *
 * @module
 */
import type { Queryable } from "../database/mod.ts";

/** The operators a filter may use. */
export const FILTER_OPS = [
  "eq",
  "neq",
  "contains",
  "in",
  "gt",
  "lt",
  "is_set",
  "is_not_set",
] as const;
/** An operator of a filter. */
export type FilterOp = typeof FILTER_OPS[number];

/** A property filter of a step. */
export interface FunnelFilter {
  property: string;
  op: FilterOp;
  value?: string | number | string[];
}

/** A step: an event type and its filters. */
export interface FunnelStep {
  event: string;
  filters: FunnelFilter[];
}

/** A whole funnel question. */
export interface FunnelDefinition {
  steps: FunnelStep[];
  from: string;
  to: string;
  /** The conversion window as the URL writes it, e.g. `14d`. */
  window: string;
  breakdown: string | null;
  top: number;
  /** The named funnel it came from, if any. */
  named: string | null;
}

/** A row of analytics.funnel. */
export interface FunnelRow {
  breakdownValue: string | null;
  breakdownRank: number;
  step: number;
  eventType: string;
  persons: number;
  conversionFromPrevious: number | null;
  conversionFromFirst: number | null;
  medianSeconds: number | null;
  p90Seconds: number | null;
}

/** A person who dropped off. */
export interface DroppedPerson {
  personId: string;
  userId: string | null;
  anonymousId: string | null;
  enteredAt: string;
  lastStepAt: string;
}

/** A ready definition from analytics.named_funnels(). */
export interface NamedFunnel {
  name: string;
  title: string;
  description: string;
  steps: FunnelStep[];
  window: string;
}

/** The named funnels (kept here as in analytics.named_funnels(), which a test compares). */
export const NAMED_FUNNELS: NamedFunnel[] = [
  {
    name: "lead-to-customer",
    title: "Lead to customer",
    description:
      "Visitors who browsed before signing in, signed up, then started paying (subscriptions).",
    steps: ["$anonymous", "user_signup", "subscription_paid"].map((event) => ({
      event,
      filters: [],
    })),
    window: "30d",
  },
  {
    name: "trial-to-paid",
    title: "Trial to paid",
    description: "Subscriptions that started a trial, then started paying.",
    steps: ["subscription_trial_started", "subscription_paid"].map((event) => ({
      event,
      filters: [],
    })),
    window: "30d",
  },
];

/** The window as a PostgreSQL interval. */
export function windowInterval(window: string): string {
  const [, n, unit] = /^(\d{1,4})([dhm])$/.exec(window)!;
  return `${n} ${unit === "d" ? "days" : unit === "h" ? "hours" : "minutes"}`;
}

const num = (v: unknown) => v === null || v === undefined ? null : Number(v);

/** The steps as analytics.funnel takes them. */
export function stepsJson(d: FunnelDefinition): string {
  return JSON.stringify(d.steps.map((s) => ({ event: s.event, filters: s.filters })));
}

/** Reads analytics.funnel for a definition, as whoever `tx` acts for. */
export async function readFunnel(tx: Queryable, d: FunnelDefinition): Promise<FunnelRow[]> {
  const rows = await tx.query<Record<string, unknown>>(
    `select * from analytics.funnel($1::text::jsonb, $2::date, $3::date, $4::interval, $5, $6)`,
    [stepsJson(d), d.from, d.to, windowInterval(d.window), d.breakdown, d.top],
  );
  return rows.map((r) => ({
    breakdownValue: r.breakdown_value as string | null,
    breakdownRank: Number(r.breakdown_rank),
    step: Number(r.step),
    eventType: String(r.event_type),
    persons: Number(r.persons),
    conversionFromPrevious: num(r.conversion_from_previous),
    conversionFromFirst: num(r.conversion_from_first),
    medianSeconds: num(r.median_seconds),
    p90Seconds: num(r.p90_seconds),
  }));
}

/** Reads the persons who reached step `droppedAt - 1` but not `droppedAt`. */
export async function readDropoffs(
  tx: Queryable,
  d: FunnelDefinition,
  droppedAt: number,
  limit: number,
): Promise<DroppedPerson[]> {
  const rows = await tx.query<Record<string, unknown>>(
    `select person_id, user_id::text as user_id, anonymous_id, entered_at, last_step_at
       from analytics.funnel_dropoffs($1::text::jsonb, $2::date, $3::date, $4::interval, $5, $6)`,
    [stepsJson(d), d.from, d.to, windowInterval(d.window), droppedAt, limit],
  );
  const iso = (v: unknown) =>
    v instanceof Date ? v.toISOString() : new Date(String(v)).toISOString();
  return rows.map((r) => ({
    personId: String(r.person_id),
    userId: r.user_id as string | null,
    anonymousId: r.anonymous_id as string | null,
    enteredAt: iso(r.entered_at),
    lastStepAt: iso(r.last_step_at),
  }));
}

/** The explorer's address for a person: by user id, or by anonymous id. */
export function explorerHref(p: { userId: string | null; anonymousId: string | null }): string {
  const q = new URLSearchParams();
  if (p.userId) q.set("user_id", p.userId);
  else if (p.anonymousId) q.set("anonymous_id", p.anonymousId);
  return `/analytics/events?${q}`;
}
