/**
 * Storing checked events with one SQL statement as `service_role`, falling back to one
 * transaction per event when a row's values are refused.
 *
 * @module
 */
import type { Database, Queryable } from "../database/mod.ts";
import { actAsServiceRole } from "../database/act_as.ts";
import { type CheckedEvent, MAX_STORED_PAYLOAD_BYTES, type Rejection } from "./event.ts";

const INSERT = `with horizon as (select private.raw_retention_horizon() as h),
       input as (
         select r.*, pg_column_size(r.p) as size, r.ts < horizon.h as too_old
           from jsonb_to_recordset($1::text::jsonb)
                as r (i int, id uuid, t text, u uuid, a text, p jsonb, ts timestamptz)
           cross join horizon
       ),
       fresh as (
         select input.*, row_number() over (partition by input.id order by input.i) as nth
           from input
          where size <= $2 and too_old is not true
            and not exists (select 1 from private.event_ids x where x.id = input.id)
       ),
       stored as (
         insert into public.events (id, event_type, user_id, anonymous_id, payload, "timestamp")
         select id, t, u, a, p, coalesce(ts, now()) from fresh where nth = 1 order by i
         returning 1
       )
       select (select count(*)::int from stored) as accepted,
              (select coalesce(json_agg(json_build_object('index', i, 'size', size) order by i), '[]')
                 from input where size > $2)::text as too_large,
              (select coalesce(json_agg(json_build_object('index', i, 'horizon', h) order by i), '[]')
                 from input cross join horizon where too_old and size <= $2)::text as too_old`;

/** The event's field each check constraint of `public.events` is about. */
const CONSTRAINT_FIELDS: Record<string, string> = {
  events_payload_check: "properties",
  events_event_type_check: "event",
  events_anonymous_id_check: "anonymous_id",
  events_actor_check: "anonymous_id",
  events_timestamp_not_future: "timestamp",
  events_timestamp_retention: "timestamp",
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

/** Whether a database error is a duplicate id (another request stored it meanwhile). */
function isDuplicate(error: unknown): boolean {
  return (error as { code?: unknown })?.code === "23505";
}

/**
 * Runs `fn` again when it fails on a duplicate id: an id stored by a concurrent request
 * after this statement checked private.event_ids. The retry sees it and skips it.
 */
async function againOnDuplicate<T>(fn: () => Promise<T>): Promise<T> {
  for (let attempt = 1;; attempt++) {
    try {
      return await fn();
    } catch (error) {
      if (!isDuplicate(error) || attempt >= 5) throw error;
    }
  }
}

async function insertRows(
  tx: Queryable,
  events: CheckedEvent[],
): Promise<{
  accepted: number;
  tooLarge: Array<{ index: number; size: number }>;
  tooOld: Array<{ index: number; horizon: string }>;
}> {
  const rows = events.map((e) => ({
    i: e.index,
    id: e.id,
    t: e.eventType,
    u: e.userId,
    a: e.anonymousId,
    p: e.properties,
    ts: e.timestamp,
  }));
  const [{ accepted, too_large, too_old }] = await tx.query<
    { accepted: number; too_large: string; too_old: string }
  >(INSERT, [JSON.stringify(rows), MAX_STORED_PAYLOAD_BYTES]);
  return { accepted, tooLarge: JSON.parse(too_large), tooOld: JSON.parse(too_old) };
}

/**
 * Stores checked events with one statement, as `service_role`. An event whose id is
 * already stored (or repeats an earlier one of the same request) is a duplicate and is not
 * stored again. An event whose properties take more room stored (jsonb, as the table's
 * check measures it) than {@linkcode MAX_STORED_PAYLOAD_BYTES} is rejected, alone, and so is
 * one older than the raw-event retention (`private.raw_retention_horizon()`). Should
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
  const tooOldRejection = ({ index, horizon }: { index: number; horizon: string }): Rejection => ({
    index,
    field: "timestamp",
    reason:
      `is older than the raw-event retention: events before ${horizon} are no longer kept (only their rollups are)`,
  });
  const rejections = (one: Awaited<ReturnType<typeof insertRows>>) =>
    [
      ...one.tooLarge.map(tooLargeRejection),
      ...one.tooOld.map(tooOldRejection),
    ].sort((a, b) => a.index - b.index);
  let result: { accepted: number; rejected: Rejection[] };
  try {
    result = await againOnDuplicate(() =>
      actAsServiceRole(db, async (tx) => {
        const one = await insertRows(tx, events);
        return { accepted: one.accepted, rejected: rejections(one) };
      })
    );
  } catch (error) {
    if (!isRowError(error)) throw error;
    // One transaction per event (savepoints are not portable across the two drivers:
    // postgres.js fails the whole transaction on any error inside it).
    result = { accepted: 0, rejected: [] };
    for (const event of events) {
      try {
        const one = await againOnDuplicate(() =>
          actAsServiceRole(db, (tx) => insertRows(tx, [event]))
        );
        result.accepted += one.accepted;
        result.rejected.push(...rejections(one));
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
