/**
 * Reading the dashboard's questions out of a URL (metric, range, bucket, explorer filters,
 * cursor), with a {@linkcode ParamError} naming the parameter for anything wrong.
 *
 * @module
 */
import { ApiError } from "../http/errors.ts";
import type { ChartSelection } from "./series.ts";
import { addDays, daysBetween } from "./days.ts";

const DATE = /^\d{4}-\d{2}-\d{2}$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** The explorer's cursor: `YYYY-MM-DDTHH:MM:SS[.ffffff]Z_<uuid>`, as {@link eventCursor} writes it. */
const CURSOR = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,6})?Z)_([0-9a-f-]{36})$/i;

/** The first day a date parameter may name: older dates are mistakes, not analytics. */
export const FIRST_DAY = "1900-01-01";
/** The last day a date parameter may name (the day after it must still be a 4-digit year). */
export const LAST_DAY = "9999-12-30";
/** The most events one explorer page (`limit`) may hold; `analytics.events_page` allows as many. */
export const MAX_EVENTS_PAGE = 1000;

/**
 * A parameter that is wrong: answered with
 * `400 {"error": "invalid_parameter", "field", "message"}`.
 */
export class ParamError extends ApiError {
  /** The parameter at fault. */
  declare readonly field: string;

  /**
   * @param field The parameter.
   * @param reason What is wrong with it.
   */
  constructor(field: string, reason: string) {
    super(400, "invalid_parameter", `${field}: ${reason}`, { field });
    this.name = "ParamError";
  }
}

function parseDate(field: string, value: string): string {
  const at = new Date(`${value}T00:00:00Z`);
  // An impossible month (2026-13-01) is an Invalid Date, whose toISOString() throws.
  if (!DATE.test(value) || isNaN(at.getTime()) || at.toISOString().slice(0, 10) !== value) {
    throw new ParamError(field, `must be a date as YYYY-MM-DD, not "${value}"`);
  }
  if (value < FIRST_DAY || value > LAST_DAY) {
    throw new ParamError(field, `must be a date from ${FIRST_DAY} to ${LAST_DAY}, not ${value}`);
  }
  return value;
}

/**
 * Rejects a query string holding NUL characters, which PostgreSQL's text cannot store, so
 * such input is a 400 naming the parameter before anything reads it, never a 500. (Lone
 * UTF-16 surrogates cannot get this far: URLSearchParams holds well-formed strings, and
 * percent-encoded bytes that are not UTF-8 decode to U+FFFD.)
 *
 * @param params The query string.
 * @throws {ParamError} Naming the first parameter that holds a NUL.
 */
export function assertCleanParams(params: URLSearchParams): void {
  for (const [name, value] of params) {
    if (name.includes("\0") || value.includes("\0")) {
      throw new ParamError(name.replaceAll("\0", "\\0"), "must not contain NUL characters");
    }
  }
}

/**
 * The chart selection a URL asks for. Defaults: events, the last 30 days, by day.
 *
 * @param params The query string.
 * @param metrics The metrics that exist.
 * @param today Today (UTC).
 * @returns The selection.
 * @throws {ParamError} For an unknown metric, range or bucket, or bad dates.
 */
export function parseSelection(
  params: URLSearchParams,
  metrics: string[],
  today: string,
): ChartSelection {
  assertCleanParams(params);
  const metric = params.get("metric") ?? "events";
  if (!metrics.includes(metric)) {
    throw new ParamError("metric", `unknown metric "${metric}"; use one of ${metrics.join(", ")}`);
  }
  const bucket = params.get("bucket") ?? "day";
  if (bucket !== "day" && bucket !== "week" && bucket !== "month") {
    throw new ParamError("bucket", `must be day, week or month, not "${bucket}"`);
  }
  const compareText = params.get("compare");
  const compare = compareText === "1" || compareText === "true";
  const { range, from, to } = parseRange(params, today);
  return { metric, range, from, to, bucket, compare };
}

/** A range of days, as a URL gives it. */
export interface DayRange {
  /** `7`, `30`, `90` or `custom`. */
  range: string;
  /** The first day, `YYYY-MM-DD`. */
  from: string;
  /** The last day, `YYYY-MM-DD`. */
  to: string;
}

/**
 * The range of days a URL asks for (`range` = 7, 30 or 90 days up to today, or `from` and
 * `to`); other parameters are not looked at. Default: the last 30 days.
 *
 * @param params The query string.
 * @param today Today (UTC).
 * @returns The range.
 * @throws {ParamError} For an unknown range, bad dates, or NUL characters anywhere.
 */
export function parseRange(params: URLSearchParams, today: string): DayRange {
  assertCleanParams(params);
  let range = params.get("range");
  let from: string;
  let to: string;
  if (params.has("from") || params.has("to")) {
    from = parseDate("from", params.get("from") ?? "");
    to = parseDate("to", params.get("to") ?? "");
    if (from > to) throw new ParamError("from", `${from} is after to (${to})`);
    if (daysBetween(from, to) > 3661) {
      throw new ParamError("from", "the range may be at most 10 years");
    }
    range = "custom";
  } else {
    range ??= "30";
    if (!["7", "30", "90"].includes(range)) {
      throw new ParamError(
        "range",
        `must be 7, 30 or 90 (days), or give from and to; not "${range}"`,
      );
    }
    to = today;
    from = addDays(today, -(Number(range) - 1));
  }
  return { range, from, to };
}

/** Filters of the event explorer. */
export interface EventFilters {
  type: string | null;
  userId: string | null;
  anonymousId: string | null;
  /** First UTC day included. */
  from: string | null;
  /** Last UTC day included. */
  to: string | null;
  /** Show events older than this (timestamp, id). */
  before: { timestamp: string; id: string } | null;
  limit: number;
}

/** Writes the keyset cursor of an event. */
export function eventCursor(event: { timestamp: string; id: string }): string {
  return `${event.timestamp}_${event.id}`;
}

/**
 * The explorer's filters from a URL.
 *
 * @param params The query string.
 * @returns The filters.
 * @throws {ParamError} For a bad id, date, cursor or limit.
 */
export function parseEventFilters(params: URLSearchParams): EventFilters {
  assertCleanParams(params);
  const text = (name: string) => {
    const value = params.get(name)?.trim();
    return value ? value : null;
  };
  const type = text("type");
  if (type !== null && type.length > 200) {
    throw new ParamError("type", "is longer than 200 characters");
  }
  const userId = text("user_id");
  if (userId !== null && !UUID.test(userId)) throw new ParamError("user_id", "must be a UUID");
  const anonymousId = text("anonymous_id");
  const from = text("from") === null ? null : parseDate("from", text("from")!);
  const to = text("to") === null ? null : parseDate("to", text("to")!);
  if (from && to && from > to) throw new ParamError("from", `${from} is after to (${to})`);
  let before: EventFilters["before"] = null;
  const cursor = text("before");
  if (cursor !== null) {
    const match = CURSOR.exec(cursor);
    if (!match || Number.isNaN(Date.parse(match[1])) || !UUID.test(match[2])) {
      throw new ParamError("before", "is not a cursor this explorer made");
    }
    if (match[1].slice(0, 10) < FIRST_DAY || match[1].slice(0, 10) > LAST_DAY) {
      throw new ParamError("before", `must point at a time from ${FIRST_DAY} to ${LAST_DAY}`);
    }
    before = { timestamp: match[1], id: match[2] };
  }
  const limitText = text("limit") ?? "50";
  const limit = Number(limitText);
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_EVENTS_PAGE) {
    throw new ParamError("limit", `must be a whole number from 1 to ${MAX_EVENTS_PAGE}`);
  }
  return { type, userId, anonymousId, from, to, before, limit };
}

/** The query string of filters (without the cursor unless asked). */
export function filterQuery(filters: EventFilters, extra: Record<string, string> = {}): string {
  const params = new URLSearchParams();
  if (filters.type) params.set("type", filters.type);
  if (filters.userId) params.set("user_id", filters.userId);
  if (filters.anonymousId) params.set("anonymous_id", filters.anonymousId);
  if (filters.from) params.set("from", filters.from);
  if (filters.to) params.set("to", filters.to);
  for (const [key, value] of Object.entries(extra)) params.set(key, value);
  return params.toString();
}
