/**
 * Funnels: a definition read from a readable URL, the reads of analytics.funnel,
 * analytics.funnel_dropoffs and analytics.named_funnels as the viewer, and the CSV.
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
import { ParamError, parseRange } from "./params.ts";
import { daysBetween } from "./days.ts";

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

const WINDOW = /^(\d{1,4})([dhm])$/;
/** A property or event name: 1 to 200 characters, none of them a control character. */
function isName(s: string): boolean {
  return s.length >= 1 && s.length <= 200 && [...s].every((ch) => ch >= " ");
}

/** The window as a PostgreSQL interval. */
export function windowInterval(window: string): string {
  const [, n, unit] = WINDOW.exec(window)!;
  return `${n} ${unit === "d" ? "days" : unit === "h" ? "hours" : "minutes"}`;
}

function parseFilter(raw: string, steps: number): { step: number; filter: FunnelFilter } {
  const parts = raw.split(":");
  if (parts.length < 3) {
    throw new ParamError("filter", `must be <step>:<property>:<op>[:<value>], not "${raw}"`);
  }
  const [stepText, property, op] = parts;
  const value = parts.slice(3).join(":");
  const step = Number(stepText);
  if (!Number.isInteger(step) || step < 1 || step > steps) {
    throw new ParamError(
      "filter",
      `"${raw}" names step ${stepText}; there are steps 1 to ${steps}`,
    );
  }
  if (!isName(property)) throw new ParamError("filter", `"${raw}" needs a property name`);
  if (!(FILTER_OPS as readonly string[]).includes(op)) {
    throw new ParamError("filter", `"${raw}": op must be one of ${FILTER_OPS.join(", ")}`);
  }
  const o = op as FilterOp;
  if (o === "is_set" || o === "is_not_set") return { step, filter: { property, op: o } };
  if (parts.length < 4 || value === "") throw new ParamError("filter", `"${raw}" needs a value`);
  if (o === "gt" || o === "lt") {
    const n = Number(value);
    if (!Number.isFinite(n)) throw new ParamError("filter", `"${raw}": ${o} needs a number`);
    return { step, filter: { property, op: o, value: n } };
  }
  if (o === "in") return { step, filter: { property, op: o, value: value.split(",") } };
  return { step, filter: { property, op: o, value } };
}

/**
 * Reads a funnel definition from the URL.
 *
 * @param params The query string.
 * @param today Today's UTC day.
 * @returns The definition, or null when the URL names no steps at all (the empty form).
 * @throws {ParamError} Naming the parameter at fault.
 */
export function parseFunnel(raw: URLSearchParams, today: string): FunnelDefinition | null {
  // A form sends its empty fields too: an empty value means the default.
  const params = new URLSearchParams([...raw].filter(([, v]) => v.trim() !== ""));
  let events = params.getAll("step").map((s) => s.trim()).filter((s) => s !== "");
  let window = params.get("window") ?? null;
  const name = params.get("funnel");
  let named: string | null = null;
  if (events.length === 0 && name) {
    const found = NAMED_FUNNELS.find((f) => f.name === name);
    if (!found) {
      throw new ParamError(
        "funnel",
        `must be one of ${NAMED_FUNNELS.map((f) => f.name).join(", ")}`,
      );
    }
    events = found.steps.map((s) => s.event);
    window ??= found.window;
    named = found.name;
  }
  if (events.length === 0) return null;
  if (events.length < 2 || events.length > 10) {
    throw new ParamError("step", `a funnel has 2 to 10 steps, not ${events.length}`);
  }
  for (const e of events) {
    if (!isName(e)) throw new ParamError("step", "an event type has 1 to 200 characters");
  }
  const steps: FunnelStep[] = events.map((event) => ({ event, filters: [] }));
  for (const raw of params.getAll("filter")) {
    if (raw.trim() === "") continue;
    const { step, filter } = parseFilter(raw, steps.length);
    steps[step - 1].filters.push(filter);
  }
  window ??= "14d";
  const w = WINDOW.exec(window);
  const days = w ? Number(w[1]) / (w[2] === "d" ? 1 : w[2] === "h" ? 24 : 1440) : 0;
  if (!w || days <= 0 || days > 365) {
    throw new ParamError(
      "window",
      "must be a number followed by d, h or m (e.g. 14d), from 1 minute to 365 days",
    );
  }
  const range = parseRange(params, today);
  if (daysBetween(range.from, range.to) > 366) {
    throw new ParamError("from", "a funnel reads at most 366 days; narrow the range");
  }
  const breakdown = params.get("breakdown")?.trim() || null;
  if (breakdown !== null && !isName(breakdown)) {
    throw new ParamError("breakdown", "must be a property name of 1 to 200 characters");
  }
  const top = Number(params.get("top") ?? 5);
  if (!Number.isInteger(top) || top < 1 || top > 50) {
    throw new ParamError("top", "must be a whole number from 1 to 50");
  }
  return { steps, from: range.from, to: range.to, window, breakdown, top, named };
}

/** The URL query of a definition (what {@linkcode parseFunnel} reads back). */
export function funnelQuery(d: FunnelDefinition): URLSearchParams {
  const q = new URLSearchParams();
  d.steps.forEach((s) => q.append("step", s.event));
  d.steps.forEach((s, i) =>
    s.filters.forEach((f) => {
      const value = f.value === undefined
        ? ""
        : `:${Array.isArray(f.value) ? f.value.join(",") : f.value}`;
      q.append("filter", `${i + 1}:${f.property}:${f.op}${value}`);
    })
  );
  q.set("from", d.from);
  q.set("to", d.to);
  q.set("window", d.window);
  if (d.breakdown) {
    q.set("breakdown", d.breakdown);
    q.set("top", String(d.top));
  }
  return q;
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

/**
 * The SQL's refusal of an argument (SQLSTATE 22023, the message naming the argument) as a
 * {@linkcode ParamError} naming the URL parameter; anything else is returned as it is.
 */
export function asParamError(error: unknown): unknown {
  if (
    typeof error !== "object" || error === null || (error as { code?: unknown }).code !== "22023"
  ) return error;
  const message = String((error as { message?: unknown }).message ?? "").replace(
    /^analytics\.\w+: /,
    "",
  );
  const field = /^conversion_window/.test(message)
    ? "window"
    : /^(from_day|to_day)/.test(message)
    ? "from"
    : /^steps\[\d+\]\.filters/.test(message)
    ? "filter"
    : /^breakdown_top/.test(message)
    ? "top"
    : /^breakdown/.test(message)
    ? "breakdown"
    : /^dropped_at/.test(message)
    ? "dropped_at"
    : "step";
  return new ParamError(field, message);
}
