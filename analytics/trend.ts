/**
 * Trends: the definition (as analytics.trend takes it), read from the URL and written back,
 * the read of analytics.trend and of the tracked properties as the viewer, and the SQL's
 * refusals as parameter errors.
 *
 * The URL (the page's and the API's), one series per number 1 to 5:
 * `?event1=task_started&math1=total&event2=task_completed&math2=unique&filter2=plan:eq:pro&formula=B/A*100&from=2026-10-01&to=2026-10-30&bucket=day&breakdown=plan&top=5&compare=1`
 * - `event<k>`: an event type, or `$all` for every event (a series exists when its event is given);
 * - `math<k>`: total (default), unique, sum, avg, median, p90; `property<k>`: the numeric property;
 * - `filter<k>`, repeated: `<property>:<op>[:<value>]`, op one of eq, neq, contains, in (values
 *   separated by commas), gt, lt (a number), is_set, is_not_set (no value);
 * - `from`/`to` (UTC days, default the last 30 days), `bucket` (hour, day, week, month),
 *   `breakdown`, `top`, `compare=1`, `formula`.
 * The API also takes the whole definition as JSON: `?q={"series": [...], ...}`.
 *
 * @module
 */
import type { Queryable } from "../database/mod.ts";
import { ParamError, parseRange } from "./params.ts";

/** The math of a series. */
export const TREND_MATHS = ["total", "unique", "sum", "avg", "median", "p90"] as const;
/** The filter operators. */
export const TREND_OPS = ["eq", "neq", "contains", "in", "gt", "lt", "is_set", "is_not_set"];
/** The buckets. */
export const TREND_BUCKETS = ["hour", "day", "week", "month"] as const;

/** A property filter. */
export interface TrendFilter {
  property: string;
  op: string;
  value?: string | number | string[];
}

/** A series: an event type (null: every event), a math, filters. */
export interface TrendSeries {
  event: string | null;
  math: string;
  property?: string;
  filters: TrendFilter[];
}

/** A definition, as analytics.trend takes it. */
export interface TrendDefinition {
  series: TrendSeries[];
  from: string;
  to: string;
  bucket: string;
  breakdown: string | null;
  breakdown_top: number;
  compare: boolean;
  formula: string | null;
}

/** A row of analytics.trend. */
export interface TrendRow {
  series: string;
  label: string;
  period: "current" | "previous";
  bucketIndex: number;
  bucketStart: string;
  breakdownValue: string | null;
  breakdownRank: number;
  value: number | null;
}

function parseFilter(raw: string, k: number): TrendFilter {
  const parts = raw.split(":");
  const [property, op] = parts;
  const value = parts.slice(2).join(":");
  const field = `filter${k}`;
  if (parts.length < 2 || !property) {
    throw new ParamError(field, `must be <property>:<op>[:<value>], not "${raw}"`);
  }
  if (!TREND_OPS.includes(op)) {
    throw new ParamError(field, `"${raw}": op must be one of ${TREND_OPS.join(", ")}`);
  }
  if (op === "is_set" || op === "is_not_set") return { property, op };
  if (parts.length < 3 || value === "") throw new ParamError(field, `"${raw}" needs a value`);
  if (op === "gt" || op === "lt") {
    const n = Number(value);
    if (!Number.isFinite(n)) throw new ParamError(field, `"${raw}": ${op} needs a number`);
    return { property, op, value: n };
  }
  if (op === "in") return { property, op, value: value.split(",") };
  return { property, op, value };
}

/**
 * Reads a trend definition from the URL (flat parameters, or `q` holding the JSON).
 *
 * @param raw The query string.
 * @param today Today's UTC day.
 * @returns The definition, or null when it names no series (the empty form).
 * @throws {ParamError} Naming the parameter at fault (the SQL checks the rest).
 */
export function parseTrend(raw: URLSearchParams, today: string): TrendDefinition | null {
  const params = new URLSearchParams([...raw].filter(([, v]) => v.trim() !== ""));
  const q = params.get("q");
  if (q !== null) {
    let json: unknown;
    try {
      json = JSON.parse(q);
    } catch {
      throw new ParamError("q", 'must be a JSON definition {"series": [...], ...}');
    }
    if (typeof json !== "object" || json === null || Array.isArray(json)) {
      throw new ParamError("q", 'must be a JSON object {"series": [...], ...}');
    }
    return json as TrendDefinition;
  }
  const series: TrendSeries[] = [];
  for (let k = 1; k <= 5; k++) {
    const event = params.get(`event${k}`)?.trim();
    if (!event) continue;
    const math = params.get(`math${k}`) ?? "total";
    const s: TrendSeries = {
      event: event === "$all" ? null : event,
      math,
      filters: params.getAll(`filter${k}`).map((f) => parseFilter(f, series.length + 1)),
    };
    const property = params.get(`property${k}`)?.trim();
    if (property) s.property = property;
    series.push(s);
  }
  if (series.length === 0) return null;
  const range = parseRange(params, today);
  const top = Number(params.get("top") ?? 5);
  if (!Number.isInteger(top)) throw new ParamError("top", "must be a whole number from 1 to 50");
  return {
    series,
    from: range.from,
    to: range.to,
    bucket: params.get("bucket") ?? "day",
    breakdown: params.get("breakdown")?.trim() || null,
    breakdown_top: top,
    compare: params.get("compare") === "1" || params.get("compare") === "true",
    formula: params.get("formula")?.trim() || null,
  };
}

/** The page's URL query of a definition (what {@linkcode parseTrend} reads back). */
export function trendQuery(d: TrendDefinition): URLSearchParams {
  const q = new URLSearchParams();
  d.series.forEach((s, i) => {
    const k = i + 1;
    q.set(`event${k}`, s.event ?? "$all");
    q.set(`math${k}`, s.math);
    if (s.property) q.set(`property${k}`, s.property);
    for (const f of s.filters) {
      const value = f.value === undefined
        ? ""
        : `:${Array.isArray(f.value) ? f.value.join(",") : f.value}`;
      q.append(`filter${k}`, `${f.property}:${f.op}${value}`);
    }
  });
  if (d.formula) q.set("formula", d.formula);
  q.set("from", d.from);
  q.set("to", d.to);
  q.set("bucket", d.bucket);
  if (d.breakdown) {
    q.set("breakdown", d.breakdown);
    q.set("top", String(d.breakdown_top));
  }
  if (d.compare) q.set("compare", "1");
  return q;
}

/** Reads analytics.trend for a definition, as whoever `tx` acts for. */
export async function readTrend(tx: Queryable, d: TrendDefinition): Promise<TrendRow[]> {
  const rows = await tx.query<Record<string, unknown>>(
    "select * from analytics.trend($1::text::jsonb)",
    [JSON.stringify(d)],
  );
  return rows.map((r) => ({
    series: String(r.series),
    label: String(r.label),
    period: r.period as "current" | "previous",
    bucketIndex: Number(r.bucket_index),
    bucketStart: new Date(r.bucket_start as string).toISOString(),
    breakdownValue: r.breakdown_value as string | null,
    breakdownRank: Number(r.breakdown_rank),
    value: r.value === null ? null : Number(r.value),
  }));
}

/** A tracked property. */
export interface TrackedProperty {
  eventType: string;
  property: string;
}

/** The tracked properties the viewer may see (superusers, analysts). */
export async function readTrackedProperties(tx: Queryable): Promise<TrackedProperty[]> {
  const rows = await tx.query<{ event_type: string; property: string }>(
    "select event_type, property from analytics.tracked_properties order by 1, 2",
  );
  return rows.map((r) => ({ eventType: r.event_type, property: r.property }));
}

/** Whether an error is a statement timeout (the question was too broad to answer in time). */
export function isTimeout(error: unknown): boolean {
  return typeof error === "object" && error !== null &&
    (error as { code?: unknown }).code === "57014";
}

/**
 * The SQL's refusal (SQLSTATE 22023, `analytics.trend: <field> <reason>`) as a
 * {@linkcode ParamError} naming that field (e.g. `series[2].math`); anything else as it is.
 */
export function asTrendParamError(error: unknown): unknown {
  if (
    typeof error !== "object" || error === null || (error as { code?: unknown }).code !== "22023"
  ) return error;
  const message = String((error as { message?: unknown }).message ?? "").replace(
    /^analytics\.trend: /,
    "",
  );
  const space = message.indexOf(" ");
  const field = space > 0 ? message.slice(0, space) : "definition";
  return new ParamError(field, space > 0 ? message.slice(space + 1) : message);
}
