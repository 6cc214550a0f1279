/**
 * Checking the events of a request one by one: problems with the request as a whole throw
 * a {@linkcode RequestError}; a bad event is returned as a rejection and never stops the
 * others.
 *
 * @module
 */
import {
  type CheckedEvent,
  type CheckLimits,
  MAX_PROPERTIES_DEPTH,
  type Rejection,
  RequestError,
  type Sender,
} from "./event.ts";
import { LossyNumber } from "./json.ts";
import { uuidV7 } from "./uuid.ts";

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

/**
 * Checks one event object as `checkEvents` does for each item of a batch.
 *
 * @param raw The event (`event`, `properties`, `timestamp`, `uuid`, `anonymous_id`).
 * @param index Its place in the request.
 * @param sender Who sent it (gives the user id).
 * @param limits The properties limit.
 * @param now The current time in milliseconds.
 * @returns The checked event, or why it is refused.
 */
export function checkOne(
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
    id = uuidV7(Math.floor(now));
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
