/**
 * Mapping PostHog capture payloads onto Beacon's events: `event` → event type, `uuid` → id,
 * `properties` → payload (`$`-properties kept, the project key dropped), `distinct_id` →
 * user id when it names a user of the app, else anonymous id; `$identify` and
 * `$create_alias` carry both ids, so the person-links trigger links them. Timestamps are
 * corrected for the client's clock as PostHog's capture does (`sent_at`, `offset`). Each
 * event is then checked by the same {@linkcode checkOne} as `POST /api/v1/events`.
 *
 * @module
 */
import {
  type CheckedEvent,
  type CheckLimits,
  type Rejection,
  RequestError,
  type Sender,
} from "../event.ts";
import { checkOne } from "../check.ts";
import { LossyNumber } from "../json.ts";

/** The events of a request, and what the request says about all of them. */
export interface PostHogBatch {
  /** The events as sent. */
  items: unknown[];
  /** The client's clock when it sent them (`sent_at`, or the legacy `_` parameter). */
  sentAt: unknown;
  /** The project key the request names, if any. */
  token: string | null;
}

/** A change to one person's properties, from an event's `$set` / `$set_once`. */
export interface PersonChange {
  /** The event's place in the request. */
  index: number;
  /** The person: the user's id, else the anonymous id. */
  person_id: string;
  /** The user's id, when the person is a user. */
  user_id: string | null;
  /** Properties to set. */
  set: Record<string, unknown> | null;
  /** Properties to set only where the person has none yet. */
  set_once: Record<string, unknown> | null;
  /** An anonymous id this event links to the user, whose properties the user takes on. */
  merge_from: string | null;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const MAX_FUTURE_MS = 23 * 3600_000;

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value) &&
    !(value instanceof LossyNumber);
}

function asId(value: unknown): string | null {
  if (typeof value === "string") return value;
  if (typeof value === "number" && Number.isFinite(value)) return String(value);
  if (value instanceof LossyNumber) return value.source;
  return null;
}

function tokenOf(item: unknown): string | null {
  if (!isObject(item)) return null;
  const found = item.api_key ?? item.token ??
    (isObject(item.properties) ? item.properties.token : undefined);
  return typeof found === "string" ? found : null;
}

/**
 * Finds the events of a decoded body: `{ batch: [...] }` (with `api_key`, `sent_at`), an
 * array, or one event.
 *
 * @param body The parsed JSON.
 * @param query The query string (`api_key`/`token`, `sent_at`/`_` of older SDKs).
 * @param maxEvents The most events a request may carry.
 * @returns The events and what the request says about them.
 * @throws {RequestError} 400 for another shape or no events, 413 for too many.
 */
export function unpackPostHogBody(
  body: unknown,
  query: URLSearchParams,
  maxEvents: number,
): PostHogBatch {
  let items: unknown[];
  let sentAt: unknown = query.get("sent_at") ?? query.get("_") ?? null;
  let token: string | null = query.get("api_key") ?? query.get("token");
  if (Array.isArray(body)) {
    items = body;
  } else if (isObject(body) && Array.isArray(body.batch)) {
    items = body.batch;
    sentAt = body.sent_at ?? sentAt;
    token = typeof body.api_key === "string"
      ? body.api_key
      : typeof body.token === "string"
      ? body.token
      : token;
  } else if (isObject(body) && "event" in body) {
    items = [body];
    sentAt = body.sent_at ?? sentAt;
  } else {
    throw new RequestError(
      400,
      "invalid_body",
      'the body must be an event, an array of events or { "batch": [...] }',
    );
  }
  if (items.length === 0) throw new RequestError(400, "empty_batch", "batch holds no events");
  if (items.length > maxEvents) {
    throw new RequestError(
      413,
      "batch_too_large",
      `batch holds ${items.length} events; at most ${maxEvents} are allowed per request`,
    );
  }
  token ??= items.map(tokenOf).find((t) => t !== null) ?? null;
  return { items, sentAt, token };
}

/** An instant in milliseconds from an ISO string (UTC when it names no offset) or a number. */
function instant(value: unknown): number | null {
  if (typeof value === "number") return Number.isFinite(value) ? value : null;
  if (typeof value !== "string") return null;
  if (/^\d{10,16}$/.test(value)) return Number(value);
  const iso = /^\d{4}-\d{2}-\d{2}T[\d:.]+$/.test(value) ? `${value}Z` : value;
  const at = Date.parse(iso);
  return Number.isNaN(at) ? null : at;
}

/**
 * When an event happened, corrected for the client's clock as PostHog's capture does: with
 * `timestamp` and `sent_at`, the server's time of arrival plus how long before sending the
 * event happened; with `timestamp` alone, as sent; with `offset` (milliseconds before
 * sending), arrival minus it; else arrival. An unreadable timestamp, or one more than 23
 * hours ahead, becomes the arrival. `$ignore_sent_at: true` turns the correction off.
 *
 * @param item The event.
 * @param requestSentAt The request's `sent_at`.
 * @param now The time of arrival in milliseconds.
 * @returns The corrected time in milliseconds.
 */
export function correctedTimestamp(
  item: Record<string, unknown>,
  requestSentAt: unknown,
  now: number,
): number {
  const ignore = isObject(item.properties) && item.properties.$ignore_sent_at === true;
  const sentAt = ignore ? null : instant(item.sent_at ?? requestSentAt);
  let at = now;
  if (item.timestamp !== undefined && item.timestamp !== null) {
    const stamped = instant(item.timestamp);
    if (stamped !== null) at = sentAt === null ? stamped : now + (stamped - sentAt);
  } else if (typeof item.offset === "number" && Number.isFinite(item.offset)) {
    at = now - item.offset;
  }
  return at > now + MAX_FUTURE_MS || !Number.isFinite(at) ? now : at;
}

/**
 * The ids of a batch that may be users (uuid-shaped `distinct_id`, `alias`,
 * `$anon_distinct_id`), to look up in `auth.users`.
 *
 * @param items The events as sent.
 * @returns The lower-cased candidate ids.
 */
export function candidateUserIds(items: unknown[]): string[] {
  const found = new Set<string>();
  for (const item of items) {
    if (!isObject(item)) continue;
    const props = isObject(item.properties) ? item.properties : {};
    for (const id of [item.distinct_id, props.distinct_id, props.alias, props.$anon_distinct_id]) {
      if (typeof id === "string" && UUID.test(id)) found.add(id.toLowerCase());
    }
  }
  return [...found];
}

/** The field a check names, in PostHog's words. */
function postHogField(field: string): string {
  return field === "anonymous_id" ? "distinct_id" : field;
}

/**
 * Maps and checks the events of a request.
 *
 * @param batch The events and the request's `sent_at` and project key.
 * @param options The users among the candidate ids, the limits and the time of arrival.
 * @returns The events to store, the rejected ones, and the person-property changes.
 */
export function mapPostHogEvents(
  batch: PostHogBatch,
  options: { users: ReadonlySet<string>; limits: CheckLimits; now: number },
): { events: CheckedEvent[]; rejected: Rejection[]; persons: PersonChange[] } {
  const { users, limits, now } = options;
  const isUser = (id: unknown): id is string =>
    typeof id === "string" && users.has(id.toLowerCase());
  const events: CheckedEvent[] = [];
  const rejected: Rejection[] = [];
  const persons: PersonChange[] = [];
  batch.items.forEach((item, index) => {
    const reject = (field: string, reason: string) => rejected.push({ index, field, reason });
    if (!isObject(item)) return reject("", "an event must be a JSON object");
    const props = isObject(item.properties) ? { ...item.properties } : item.properties;
    const distinct = asId(item.distinct_id ?? (isObject(props) ? props.distinct_id : undefined));
    if (distinct === null || distinct === "") {
      return reject("distinct_id", "required: who did it, as a string");
    }
    const token = tokenOf(item);
    if (token !== null && batch.token !== null && token !== batch.token) {
      return reject("token", "differs from the request's project key");
    }
    if (isObject(props)) {
      for (const key of ["$set", "$set_once"]) {
        if (isObject(item[key])) {
          props[key] = { ...(isObject(props[key]) ? props[key] : {}), ...item[key] };
        }
      }
      delete props.token;
      delete props.api_key;
    }
    const name = item.event;
    let userId: string | null = null;
    let anonymousId: string | null = distinct;
    const other = isObject(props)
      ? name === "$identify"
        ? props.$anon_distinct_id
        : name === "$create_alias"
        ? props.alias
        : null
      : null;
    if (isUser(distinct)) {
      userId = distinct.toLowerCase();
      anonymousId = typeof other === "string" && other !== "" && !isUser(other) ? other : null;
    } else if (name === "$create_alias" && isUser(other)) {
      userId = other.toLowerCase();
    }
    const sender: Sender = userId ? { kind: "user", userId } : { kind: "anonymous" };
    const raw = {
      event: name,
      properties: props,
      timestamp: new Date(correctedTimestamp(item, batch.sentAt, now)).toISOString(),
      uuid: item.uuid,
      anonymous_id: anonymousId,
    };
    const checked = checkOne(raw, index, sender, limits, now);
    if ("reason" in checked) {
      return reject(postHogField(checked.field), checked.reason);
    }
    events.push(checked);
    const set = isObject(checked.properties.$set) ? checked.properties.$set : null;
    const setOnce = isObject(checked.properties.$set_once) ? checked.properties.$set_once : null;
    const linking = userId !== null && anonymousId !== null;
    if (set || setOnce || linking) {
      persons.push({
        index,
        person_id: userId ?? anonymousId!,
        user_id: userId,
        set,
        set_once: setOnce,
        merge_from: linking ? anonymousId : null,
      });
    }
  });
  return { events, rejected, persons };
}
