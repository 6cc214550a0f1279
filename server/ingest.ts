/**
 * Ingestion: checking the events of a request one by one, and storing the good ones with
 * one SQL statement.
 *
 * @module
 */
import type { Database, Queryable } from "../database/mod.ts";
import { actAsServiceRole } from "../database/act_as.ts";

/** Who sent the request. */
export type Sender = { kind: "user"; userId: string } | { kind: "anonymous" };

/** An event that passed every check, ready to store. */
export interface CheckedEvent {
  /** Its place in the request. */
  index: number;
  id: string;
  eventType: string;
  userId: string | null;
  anonymousId: string | null;
  properties: Record<string, unknown>;
  /** ISO 8601, or null for "now". */
  timestamp: string | null;
}

/** Why one event was refused. */
export interface Rejection {
  /** Its place in the request (0 for a single event). */
  index: number;
  /** The field at fault. */
  field: string;
  /** What is wrong. */
  reason: string;
}

/** A problem with the request as a whole. */
export class RequestError extends Error {
  /**
   * @param status The HTTP status to answer with.
   * @param code A short machine-readable code.
   * @param message What is wrong, for a person.
   * @param retryAfterSeconds When to try again (429, 503).
   */
  constructor(
    readonly status: 400 | 401 | 408 | 413 | 415 | 429 | 503,
    readonly code: string,
    message: string,
    /** For 429 and 503: when to try again, in seconds (the `retry-after` header). */
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
    this.name = "RequestError";
  }
}

/** Limits the checks apply. */
export interface CheckLimits {
  maxBatchEvents: number;
  maxPropertiesBytes: number;
}

/** How deep `properties` may nest: the object itself is level 1, `{"a": {}}` is 2. */
export const MAX_PROPERTIES_DEPTH = 64;

/**
 * The largest `payload` the events table stores, as `pg_column_size` measures it: the
 * check constraint of `public.events` (migration 20261126000300_events.sql).
 */
export const MAX_STORED_PAYLOAD_BYTES = 65_536;

/** A number of the body that a JavaScript number cannot hold exactly (see {@linkcode parseBody}). */
class LossyNumber {
  constructor(readonly source: string) {}
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const ISO_WITH_OFFSET = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})$/i;
const MAX_FUTURE_MS = 86_400_000;
const EARLIEST_MS = Date.parse("2000-01-01T00:00:00Z");
const encoder = new TextEncoder();

/** Whether the date part of an ISO string exists (no 30 February) and the time is in range. */
function isCalendarDate(iso: string): boolean {
  const [y, m, d, hh, mm, ss] = iso.split(/[-T:.Z+]/i).map(Number);
  const date = new Date(Date.UTC(y, m - 1, d));
  return date.getUTCFullYear() === y && date.getUTCMonth() === m - 1 &&
    date.getUTCDate() === d &&
    hh < 24 && mm < 60 && (Number.isNaN(ss) || ss < 60);
}

const UNSTORABLE =
  "contains the NUL character (\\u0000) or a lone UTF-16 surrogate, which PostgreSQL cannot store";

/** Whether PostgreSQL can store the string as text: no NUL, well-formed UTF-16. */
function storableText(text: string): boolean {
  return !text.includes("\u0000") && text.isWellFormed();
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value) &&
    !(value instanceof LossyNumber);
}

/** Where a value sits inside `properties`, e.g. `properties.items[2].price`. */
function childPath(path: string, key: string | number): string {
  return typeof key === "number" ? `${path}[${key}]` : `${path}.${key}`;
}

/**
 * Walks every value and key of `properties` without recursion: at most
 * {@linkcode MAX_PROPERTIES_DEPTH} levels, only text PostgreSQL can store, only numbers
 * kept exactly.
 */
function checkProperties(
  properties: Record<string, unknown>,
): { field: string; reason: string } | null {
  // Only containers are pushed (with their path); other values are checked in place.
  const stack: Array<[object, string, number]> = [[properties, "properties", 1]];
  const checkValue = (
    value: unknown,
    path: string,
    key: string | number,
    depth: number,
  ): { field: string; reason: string } | null => {
    if (typeof value === "string") {
      return storableText(value) ? null : { field: childPath(path, key), reason: UNSTORABLE };
    }
    if (value instanceof LossyNumber) {
      const shown = value.source.length > 40 ? `${value.source.slice(0, 40)}…` : value.source;
      return {
        field: childPath(path, key),
        reason:
          `the number ${shown} cannot be kept exactly (out of range or more precise than a 64-bit float); send it as a string`,
      };
    }
    if (typeof value === "object" && value !== null) {
      stack.push([value, childPath(path, key), depth + 1]);
    }
    return null;
  };
  while (stack.length > 0) {
    const [value, path, depth] = stack.pop()!;
    if (depth > MAX_PROPERTIES_DEPTH) {
      return {
        field: "properties",
        reason: `nests more than ${MAX_PROPERTIES_DEPTH} levels deep`,
      };
    }
    if (Array.isArray(value)) {
      for (let i = value.length - 1; i >= 0; i--) {
        const problem = checkValue(value[i], path, i, depth);
        if (problem) return problem;
      }
      continue;
    }
    const keys = Object.keys(value);
    for (let i = keys.length - 1; i >= 0; i--) {
      const key = keys[i];
      if (!storableText(key)) {
        return { field: path, reason: `has a key that ${UNSTORABLE}` };
      }
      const problem = checkValue((value as Record<string, unknown>)[key], path, key, depth);
      if (problem) return problem;
    }
  }
  return null;
}

function checkOne(
  raw: unknown,
  index: number,
  sender: Sender,
  limits: CheckLimits,
  now: number,
): CheckedEvent | Rejection {
  const reject = (field: string, reason: string): Rejection => ({
    index,
    field,
    reason,
  });
  if (!isObject(raw)) return reject("", "an event must be a JSON object");
  const event = raw.event;
  if (typeof event !== "string") {
    return reject("event", "required: the event type as a string");
  }
  if (event.length < 1 || event.length > 200) {
    return reject("event", "must be 1 to 200 characters");
  }
  if (!storableText(event)) return reject("event", UNSTORABLE);
  let properties: Record<string, unknown> = {};
  if (raw.properties !== undefined && raw.properties !== null) {
    if (!isObject(raw.properties)) {
      return reject("properties", "must be a JSON object");
    }
    properties = raw.properties;
    const problem = checkProperties(properties);
    if (problem) return reject(problem.field, problem.reason);
    const serialized = JSON.stringify(properties);
    const size = encoder.encode(serialized).length;
    if (size > limits.maxPropertiesBytes) {
      return reject(
        "properties",
        `is ${size} bytes serialized; at most ${limits.maxPropertiesBytes} are allowed`,
      );
    }
  }
  let timestamp: string | null = null;
  if (raw.timestamp !== undefined && raw.timestamp !== null) {
    if (
      typeof raw.timestamp !== "string" || !ISO_WITH_OFFSET.test(raw.timestamp)
    ) {
      return reject(
        "timestamp",
        "must be ISO 8601 with a UTC offset, e.g. 2026-11-26T09:30:00Z or 2026-11-26T10:30:00+01:00",
      );
    }
    const at = Date.parse(raw.timestamp);
    if (Number.isNaN(at) || !isCalendarDate(raw.timestamp)) {
      return reject("timestamp", "is not a real date and time");
    }
    if (at > now + MAX_FUTURE_MS) {
      return reject("timestamp", "is more than 1 day in the future");
    }
    if (at < EARLIEST_MS) return reject("timestamp", "is before 2000-01-01");
    timestamp = new Date(at).toISOString();
  }
  let id: string;
  if (raw.uuid === undefined || raw.uuid === null) {
    id = crypto.randomUUID();
  } else if (typeof raw.uuid !== "string" || !UUID.test(raw.uuid)) {
    return reject(
      "uuid",
      "must be a UUID, e.g. 0b6a1f9e-3c1d-4e7a-9a57-2f1f5b2d8c11",
    );
  } else {
    id = raw.uuid.toLowerCase();
  }
  let anonymousId: string | null = null;
  if (raw.anonymous_id !== undefined && raw.anonymous_id !== null) {
    if (typeof raw.anonymous_id !== "string") {
      return reject("anonymous_id", "must be a string");
    }
    if (raw.anonymous_id.length < 1 || raw.anonymous_id.length > 200) {
      return reject("anonymous_id", "must be 1 to 200 characters");
    }
    if (!storableText(raw.anonymous_id)) {
      return reject("anonymous_id", UNSTORABLE);
    }
    anonymousId = raw.anonymous_id;
  }
  if (sender.kind === "anonymous" && anonymousId === null) {
    return reject(
      "anonymous_id",
      "required for events sent with the ingest key (no signed-in user)",
    );
  }
  return {
    index,
    id,
    eventType: event,
    userId: sender.kind === "user" ? sender.userId : null,
    anonymousId,
    properties,
    timestamp,
  };
}

/** A decimal number's value as text that is equal for equal values: `1.50e2` → `15e1`. */
function canonicalDecimal(text: string): string {
  const m = /^(-?)(\d+)(?:\.(\d+))?(?:[eE]([+-]?\d+))?$/.exec(text);
  if (!m) return text;
  const fraction = m[3] ?? "";
  const digits = (m[2] + fraction).replace(/^0+/, "");
  if (digits === "") return "0";
  const trimmed = digits.replace(/0+$/, "");
  const exponent = Number(m[4] ?? 0) - fraction.length + (digits.length - trimmed.length);
  return `${m[1]}${trimmed}e${exponent}`;
}

/** Whether a JSON number as sent is exactly the JavaScript number it parsed to. */
function keptExactly(source: string, value: number): boolean {
  return Number.isFinite(value) && canonicalDecimal(source) === canonicalDecimal(String(value));
}

/**
 * Finds the numbers of a valid JSON text that JSON.parse cannot keep exactly, with their
 * paths (object keys and array indexes), scanning without recursion: the first of each
 * field of an event, and none deeper than `properties` may nest.
 */
function lossyNumbers(text: string): Array<{ path: Array<string | number>; source: string }> {
  const found: Array<{ path: Array<string | number>; source: string }> = [];
  const stack: Array<{ array: boolean; key: string | number }> = [];
  const owners = new Set<string>();
  const number = /-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
  let expectingKey = false;
  let pos = 0;
  while (pos < text.length) {
    const ch = text[pos];
    const top = stack[stack.length - 1];
    if (ch === '"') {
      let end = pos + 1;
      while (true) {
        end = text.indexOf('"', end);
        let backslashes = 0;
        while (text[end - 1 - backslashes] === "\\") backslashes++;
        if (backslashes % 2 === 0) break;
        end++;
      }
      if (top && !top.array && expectingKey) {
        const raw = text.slice(pos + 1, end);
        top.key = raw.includes("\\") ? JSON.parse(`"${raw}"`) : raw;
        expectingKey = false;
      }
      pos = end + 1;
    } else if (ch === "-" || (ch >= "0" && ch <= "9")) {
      number.lastIndex = pos;
      const source = number.exec(text)![0];
      if (stack.length <= MAX_PROPERTIES_DEPTH + 3 && !keptExactly(source, Number(source))) {
        // One per field of an event is enough to reject it: `batch`, its index, the field.
        const owner = stack.slice(0, 3).map((frame) => frame.key).join("\u0000");
        if (!owners.has(owner)) {
          owners.add(owner);
          found.push({ path: stack.map((frame) => frame.key), source });
        }
      }
      pos += source.length;
    } else {
      if (ch === "{") {
        stack.push({ array: false, key: "" });
        expectingKey = true;
      } else if (ch === "[") {
        stack.push({ array: true, key: 0 });
      } else if (ch === "}" || ch === "]") {
        stack.pop();
      } else if (ch === ",") {
        if (top.array) top.key = (top.key as number) + 1;
        else expectingKey = true;
      }
      pos++;
    }
  }
  return found;
}

/**
 * Parses a request body as JSON. Numbers JSON.parse would change (`1e309` becomes
 * Infinity, `12345678901234567890` is rounded) are marked so that {@linkcode checkEvents}
 * rejects the event naming the field, instead of storing another number. Parsing does not
 * recurse, so any depth parses; {@linkcode checkEvents} limits the depth of `properties`.
 *
 * @param text The body.
 * @returns The parsed body.
 * @throws {RequestError} 400 for text that is not JSON.
 */
export function parseBody(text: string): unknown {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (error) {
    throw new RequestError(
      400,
      "malformed_json",
      `the body is not valid JSON: ${(error as Error).message}`,
    );
  }
  // A number can only be changed by parsing when it has an exponent or 16 digits or more;
  // a number follows `:`, `[` or `,`.
  if (!/[:,[]\s*-?\d(?:[\d.]*[eE]|[\d.]{15})/.test(text)) return body;
  for (const { path, source } of lossyNumbers(text)) {
    let parent: unknown = undefined;
    let value: unknown = body;
    for (const key of path) {
      parent = value;
      value = typeof value === "object" && value !== null && Object.hasOwn(value, key)
        ? (value as Record<string | number, unknown>)[key]
        : undefined;
    }
    if (path.length > 0 && typeof value === "number" && value === Number(source)) {
      (parent as Record<string | number, unknown>)[path[path.length - 1]] = new LossyNumber(
        source,
      );
    }
  }
  return body;
}

/**
 * Checks a parsed request body: one event, or `{ "batch": [...] }`. Problems with the
 * request as a whole throw; problems with single events are returned as rejections and
 * never stop the others.
 *
 * @param body The parsed JSON body.
 * @param sender Who sent it (the user id comes from the token, never from the body).
 * @param limits Batch and properties limits.
 * @param now The current time in milliseconds.
 * @returns The events to store and the rejected ones.
 * @throws {RequestError} For an empty or oversized batch, or a body of the wrong shape.
 */
export function checkEvents(
  body: unknown,
  sender: Sender,
  limits: CheckLimits,
  now: number,
): { events: CheckedEvent[]; rejected: Rejection[] } {
  if (!isObject(body)) {
    throw new RequestError(
      400,
      "invalid_body",
      'the body must be an event object or { "batch": [...] }',
    );
  }
  let items: unknown[];
  if ("batch" in body) {
    if (!Array.isArray(body.batch)) {
      throw new RequestError(
        400,
        "invalid_batch",
        "batch must be an array of events",
      );
    }
    items = body.batch;
    if (items.length === 0) {
      throw new RequestError(400, "empty_batch", "batch holds no events");
    }
    if (items.length > limits.maxBatchEvents) {
      throw new RequestError(
        413,
        "batch_too_large",
        `batch holds ${items.length} events; at most ${limits.maxBatchEvents} are allowed per request`,
      );
    }
  } else {
    items = [body];
  }
  const events: CheckedEvent[] = [];
  const rejected: Rejection[] = [];
  for (let i = 0; i < items.length; i++) {
    const result = checkOne(items[i], i, sender, limits, now);
    if ("reason" in result) rejected.push(result);
    else events.push(result);
  }
  return { events, rejected };
}

const INSERT = `with input as (
         select r.*, pg_column_size(r.p) as size
           from jsonb_to_recordset($1::text::jsonb)
                as r (i int, id uuid, t text, u uuid, a text, p jsonb, ts timestamptz)
       ),
       stored as (
         insert into public.events (id, event_type, user_id, anonymous_id, payload, "timestamp")
         select id, t, u, a, p, coalesce(ts, now()) from input where size <= $2
         on conflict (id) do nothing
         returning 1
       )
       select (select count(*)::int from stored) as accepted,
              (select coalesce(json_agg(json_build_object('index', i, 'size', size) order by i), '[]')
                 from input where size > $2)::text as too_large`;

/** The event's field each check constraint of `public.events` is about. */
const CONSTRAINT_FIELDS: Record<string, string> = {
  events_payload_check: "properties",
  events_event_type_check: "event",
  events_anonymous_id_check: "anonymous_id",
  events_actor_check: "anonymous_id",
  events_timestamp_not_future: "timestamp",
};

/** Whether a database error is about the values of one row (a check, a bad value). */
function isRowError(error: unknown): boolean {
  const code = (error as { code?: unknown })?.code;
  return typeof code === "string" && (code === "23514" || code.startsWith("22"));
}

function rowRejection(index: number, error: unknown): Rejection {
  const { constraint, constraint_name, message } = error as {
    constraint?: string;
    constraint_name?: string;
    message?: string;
  };
  return {
    index,
    field: CONSTRAINT_FIELDS[constraint ?? constraint_name ?? ""] ?? "",
    reason: `the database refused it: ${message ?? "a check failed"}`,
  };
}

async function insertRows(
  tx: Queryable,
  events: CheckedEvent[],
): Promise<{ accepted: number; tooLarge: Array<{ index: number; size: number }> }> {
  const rows = events.map((e) => ({
    i: e.index,
    id: e.id,
    t: e.eventType,
    u: e.userId,
    a: e.anonymousId,
    p: e.properties,
    ts: e.timestamp,
  }));
  const [{ accepted, too_large }] = await tx.query<{ accepted: number; too_large: string }>(
    INSERT,
    [JSON.stringify(rows), MAX_STORED_PAYLOAD_BYTES],
  );
  return { accepted, tooLarge: JSON.parse(too_large) };
}

/**
 * Stores checked events with one statement, as `service_role`. An event whose id is
 * already stored (or repeats an earlier one of the same request) is a duplicate and is not
 * stored again. An event whose properties take more room stored (jsonb, as the table's
 * check measures it) than {@linkcode MAX_STORED_PAYLOAD_BYTES} is rejected, alone. Should
 * the statement still fail on one row's values (a check constraint), the events are
 * stored one by one, each committed on its own, and only the refused ones are rejected.
 * Resolves once committed.
 *
 * @param db The database.
 * @param events The checked events.
 * @returns How many were stored, how many were duplicates, and the events refused.
 */
export async function storeEvents(
  db: Database,
  events: CheckedEvent[],
): Promise<{ accepted: number; duplicates: number; rejected: Rejection[] }> {
  if (events.length === 0) return { accepted: 0, duplicates: 0, rejected: [] };
  const tooLargeRejection = ({ index, size }: { index: number; size: number }): Rejection => ({
    index,
    field: "properties",
    reason:
      `takes ${size} bytes stored (jsonb); at most ${MAX_STORED_PAYLOAD_BYTES} are allowed (many small values take more room stored than as text)`,
  });
  let result: { accepted: number; rejected: Rejection[] };
  try {
    result = await actAsServiceRole(db, async (tx) => {
      const { accepted, tooLarge } = await insertRows(tx, events);
      return { accepted, rejected: tooLarge.map(tooLargeRejection) };
    });
  } catch (error) {
    if (!isRowError(error)) throw error;
    // One transaction per event (savepoints are not portable across the two drivers:
    // postgres.js fails the whole transaction on any error inside it).
    result = { accepted: 0, rejected: [] };
    for (const event of events) {
      try {
        const one = await actAsServiceRole(db, (tx) => insertRows(tx, [event]));
        result.accepted += one.accepted;
        result.rejected.push(...one.tooLarge.map(tooLargeRejection));
      } catch (error) {
        if (!isRowError(error)) throw error;
        result.rejected.push(rowRejection(event.index, error));
      }
    }
  }
  return {
    accepted: result.accepted,
    duplicates: events.length - result.rejected.length - result.accepted,
    rejected: result.rejected,
  };
}
