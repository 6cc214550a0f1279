/**
 * An independent TypeScript computation of analytics.trend over the raw events (read back
 * as stored, in arrival order): persons from the first link of each anonymous id, property
 * values read as `payload ->> key` reads them, numbers as documented, buckets in UTC,
 * breakdown top values, the previous period, and the formula by its own parser.
 *
 * @module
 */

/** An event as stored. */
export interface RawEvent {
  type: string;
  userId: string | null;
  anonymousId: string | null;
  payload: Record<string, unknown>;
  at: number;
}

/** A filter of a series. */
export interface TrendFilter {
  property: string;
  op: string;
  value?: unknown;
}

/** A series of a definition. */
export interface TrendSeries {
  event?: string | null;
  math?: string;
  property?: string;
  filters?: TrendFilter[];
}

/** A definition as analytics.trend takes it. */
export interface TrendDefinition {
  series: TrendSeries[];
  from: string;
  to: string;
  bucket?: string;
  breakdown?: string | null;
  breakdown_top?: number;
  compare?: boolean;
  formula?: string | null;
}

/** A row of the answer, keyed as the test compares them. */
export interface TrendRow {
  series: string;
  period: string;
  index: number;
  start: string;
  value: string | null;
  rank: number;
  result: number | null;
}

const DAY = 86_400_000;
const HOUR = 3_600_000;
const NUMERIC = /^[-+]?([0-9]+[.]?[0-9]*|[.][0-9]+)([eE][-+]?[0-9]{1,3})?$/;

/** The text jsonb gives a value (`->>`): strings as they are, objects as jsonb prints them. */
export function jsonbText(v: unknown): string | null {
  if (v === undefined || v === null) return null;
  if (typeof v === "string") return v;
  return jsonbOut(v);
}

function jsonbOut(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return `[${v.map(jsonbOut).join(", ")}]`;
  if (typeof v === "object") {
    // jsonb orders keys by length, then bytes.
    const keys = Object.keys(v as object).sort((a, b) =>
      a.length - b.length || (a < b ? -1 : a > b ? 1 : 0)
    );
    return `{${
      keys.map((k) => `${JSON.stringify(k)}: ${jsonbOut((v as Record<string, unknown>)[k])}`)
        .join(", ")
    }}`;
  }
  return JSON.stringify(v);
}

/** A property as a number: a JSON number or a string that reads as one; else null. */
export function asNumber(v: unknown): number | null {
  if (typeof v === "number") return v;
  if (typeof v === "string" && NUMERIC.test(v)) return Number(v);
  return null;
}

function matches(e: RawEvent, s: TrendSeries): boolean {
  if (s.event != null && e.type !== s.event) return false;
  for (const f of s.filters ?? []) {
    const has = Object.hasOwn(e.payload, f.property);
    const raw = e.payload[f.property];
    const text = has ? jsonbText(raw) : null;
    const want = f.value === undefined || Array.isArray(f.value) ? null : jsonbText(f.value);
    let ok: boolean;
    switch (f.op) {
      case "eq":
        ok = text !== null && text === want;
        break;
      case "neq":
        ok = text !== want;
        break;
      case "contains":
        ok = text !== null && text.toLowerCase().includes(String(want).toLowerCase());
        break;
      case "in":
        ok = text !== null && (f.value as unknown[]).map((x) => jsonbText(x)).includes(text);
        break;
      case "gt":
      case "lt": {
        const n = has ? asNumber(raw) : null;
        ok = n !== null && (f.op === "gt" ? n > Number(f.value) : n < Number(f.value));
        break;
      }
      case "is_set":
        ok = has;
        break;
      default:
        ok = !has;
    }
    if (!ok) return false;
  }
  return true;
}

function dayMs(day: string): number {
  return Date.parse(`${day}T00:00:00Z`);
}

/** The start of the bucket holding `at` (UTC; weeks start on Monday). */
export function bucketStart(at: number, bucket: string): number {
  if (bucket === "hour") return at - (((at % HOUR) + HOUR) % HOUR);
  const day = at - (((at % DAY) + DAY) % DAY);
  if (bucket === "day") return day;
  const d = new Date(day);
  if (bucket === "week") return day - ((d.getUTCDay() + 6) % 7) * DAY;
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
}

function nextBucket(t: number, bucket: string): number {
  if (bucket === "hour") return t + HOUR;
  if (bucket === "day") return t + DAY;
  if (bucket === "week") return t + 7 * DAY;
  const d = new Date(t);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
}

function grid(fromMs: number, lastStart: number, bucket: string): number[] {
  const out: number[] = [];
  for (let t = bucketStart(fromMs, bucket); t <= lastStart; t = nextBucket(t, bucket)) out.push(t);
  return out;
}

function percentile(xs: number[], p: number): number | null {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  const pos = p * (s.length - 1);
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return s[lo] + (s[hi] - s[lo]) * (pos - lo);
}

/** Evaluates a formula over the letters' values; division by zero and null give null. */
export function evaluateFormula(text: string, values: Record<string, number | null>) {
  const tokens = text.match(/\d+(\.\d+)?|[A-Za-z]|[-+*/()]/g) ?? [];
  let i = 0;
  const peek = () => tokens[i];
  function expr(): number | null {
    let v = term();
    while (peek() === "+" || peek() === "-") {
      const op = tokens[i++];
      const r = term();
      v = v === null || r === null ? null : op === "+" ? v + r : v - r;
    }
    return v;
  }
  function term(): number | null {
    let v = unary();
    while (peek() === "*" || peek() === "/") {
      const op = tokens[i++];
      const r = unary();
      v = v === null || r === null ? null : op === "*" ? v * r : r === 0 ? null : v / r;
    }
    return v;
  }
  function unary(): number | null {
    if (peek() === "-") {
      i++;
      const v = unary();
      return v === null ? null : -v;
    }
    if (peek() === "+") {
      i++;
      return unary();
    }
    const t = tokens[i++];
    if (t === "(") {
      const v = expr();
      i++;
      return v;
    }
    if (/^[A-Za-z]$/.test(t)) return values[t.toUpperCase()] ?? null;
    return Number(t);
  }
  return expr();
}

/** The answer analytics.trend should give, computed from the raw events. */
export function modelTrend(events: RawEvent[], d: TrendDefinition): TrendRow[] {
  const links = new Map<string, string>();
  for (const e of events) {
    if (e.userId !== null && e.anonymousId !== null && !links.has(e.anonymousId)) {
      links.set(e.anonymousId, e.userId);
    }
  }
  const bucket = d.bucket ?? "day";
  const top = d.breakdown_top ?? 5;
  const from = dayMs(d.from);
  const end = dayMs(d.to) + DAY;
  const days = (end - from) / DAY;
  const first = d.compare ? from - days * DAY : from;
  const lastStart = (t: number) => bucket === "hour" ? t - HOUR : t - DAY;
  const grids: Record<string, number[]> = { current: grid(from, lastStart(end), bucket) };
  if (d.compare) grids.previous = grid(first, lastStart(from), bucket);

  interface Hit {
    k: number;
    period: string;
    t: number;
    bv: string;
    person: string;
    num: number | null;
  }
  const hits: Hit[] = [];
  for (const e of events) {
    if (e.at < first || e.at >= end) continue;
    const person = e.userId ?? (e.anonymousId !== null ? links.get(e.anonymousId) : undefined) ??
      e.anonymousId!;
    const bv = d.breakdown ? jsonbText(e.payload[d.breakdown]) ?? "(none)" : "";
    d.series.forEach((s, k) => {
      if (!matches(e, s)) return;
      hits.push({
        k,
        period: e.at >= from ? "current" : "previous",
        t: bucketStart(e.at, bucket),
        bv,
        person,
        num: s.property ? asNumber(e.payload[s.property]) : null,
      });
    });
  }
  let labels: Array<{ v: string | null; rank: number }> = [{ v: null, rank: 0 }];
  if (d.breakdown) {
    const counts = new Map<string, number>();
    for (const h of hits) if (h.period === "current") counts.set(h.bv, (counts.get(h.bv) ?? 0) + 1);
    const ranked = [...counts].sort((a, b) =>
      b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)
    ).slice(0, top);
    labels = ranked.map(([v], i) => ({ v, rank: i + 1 }));
    const kept = new Set(ranked.map(([v]) => v));
    if (hits.some((h) => !kept.has(h.bv))) labels.push({ v: "(other)", rank: top + 1 });
    for (const h of hits) if (!kept.has(h.bv)) h.bv = "(other)";
  }
  const rows: TrendRow[] = [];
  for (const [period, starts] of Object.entries(grids)) {
    for (const label of labels) {
      starts.forEach((t, index) => {
        const letters: Record<string, number | null> = {};
        d.series.forEach((s, k) => {
          const mine = hits.filter((h) =>
            h.k === k && h.period === period && h.t === t && (label.v === null || h.bv === label.v)
          );
          const nums = mine.map((h) => h.num).filter((n): n is number => n !== null);
          const math = s.math ?? "total";
          const result = math === "total"
            ? mine.length
            : math === "unique"
            ? new Set(mine.map((h) => h.person)).size
            : math === "sum"
            ? nums.reduce((a, b) => a + b, 0)
            : math === "avg"
            ? (nums.length ? nums.reduce((a, b) => a + b, 0) / nums.length : null)
            : percentile(nums, math === "median" ? 0.5 : 0.9);
          const letter = String.fromCharCode(65 + k);
          letters[letter] = result;
          rows.push({
            series: letter,
            period,
            index,
            start: new Date(t).toISOString(),
            value: label.v,
            rank: label.rank,
            result,
          });
        });
        if (d.formula) {
          rows.push({
            series: "formula",
            period,
            index,
            start: new Date(t).toISOString(),
            value: label.v,
            rank: label.rank,
            result: evaluateFormula(d.formula, letters),
          });
        }
      });
    }
  }
  return rows;
}
