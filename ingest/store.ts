/**
 * Storing checked events with one SQL statement as `service_role`, falling back to one
 * transaction per event when a row's values are refused. `ingest/group_commit.ts` puts the
 * events of requests arriving together into one such statement.
 *
 * @module
 */
import type { Database, Queryable } from "../database/mod.ts";
import { actAsServiceRole } from "../database/act_as.ts";
import { type CheckedEvent, MAX_STORED_PAYLOAD_BYTES, type Rejection } from "./event.ts";
import { type Done, settleLostCommit } from "./lost_commit.ts";

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
         returning id, txid
       )
       select (select coalesce(json_agg(fresh.i order by fresh.i), '[]')
                 from fresh join stored on stored.id = fresh.id where fresh.nth = 1)::text as stored,
              (select coalesce(json_agg(json_build_object('index', i, 'size', size) order by i), '[]')
                 from input where size > $2)::text as too_large,
              (select coalesce(json_agg(json_build_object('index', i, 'horizon', h) order by i), '[]')
                 from input cross join horizon where too_old and size <= $2)::text as too_old,
              (select txid::text from stored limit 1) as xid`;

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
export function isRowError(error: unknown): boolean {
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
  stored: number[];
  tooLarge: Array<{ index: number; size: number }>;
  tooOld: Array<{ index: number; horizon: string }>;
  /** The transaction's id, or null when it stored nothing. */
  xid: string | null;
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
  const [{ stored, too_large, too_old, xid }] = await tx.query<
    { stored: string; too_large: string; too_old: string; xid: string | null }
  >(INSERT, [JSON.stringify(rows), MAX_STORED_PAYLOAD_BYTES]);
  return {
    stored: JSON.parse(stored),
    tooLarge: JSON.parse(too_large),
    tooOld: JSON.parse(too_old),
    xid,
  };
}

function tooLargeRejection({ index, size }: { index: number; size: number }): Rejection {
  return {
    index,
    field: "properties",
    reason:
      `takes ${size} bytes stored (jsonb); at most ${MAX_STORED_PAYLOAD_BYTES} are allowed (many small values take more room stored than as text)`,
  };
}

function tooOldRejection({ index, horizon }: { index: number; horizon: string }): Rejection {
  return {
    index,
    field: "timestamp",
    reason:
      `is older than the raw-event retention: events before ${horizon} are no longer kept (only their rollups are)`,
  };
}

function rejections(one: Awaited<ReturnType<typeof insertRows>>): Rejection[] {
  return [...one.tooLarge.map(tooLargeRejection), ...one.tooOld.map(tooOldRejection)]
    .sort((a, b) => a.index - b.index);
}

/** What became of one request's events. */
export interface StoredEvents {
  /** How many were stored. */
  accepted: number;
  /** How many were already stored (or repeated an id of the same request). */
  duplicates: number;
  /** The events refused, by their index in the request. */
  rejected: Rejection[];
}

/**
 * Stores one request's checked events and resolves once they are committed: the function
 * the app's dependencies provide (`deps.storeEvents`, a group commit made at start by
 * `ingest/group_commit.ts`). Every ingestion endpoint calls it.
 */
export type StoreEvents = (events: CheckedEvent[]) => Promise<StoredEvents>;

/** What one transaction did with each event, by the events' `index`. */
export interface StoredTogether {
  /** The indexes of the events stored (the others are duplicates or rejected). */
  stored: number[];
  /** The events refused before the insert (too large, too old). */
  rejected: Rejection[];
}

/**
 * Stores checked events in one transaction with one statement, as `service_role`, and
 * says what became of each, by its `index`: stored, rejected (too large, too old), or
 * neither (a duplicate: its id is already stored, or an earlier event of the same call
 * has it). Throws when the statement or the commit fails; then nothing is stored. A
 * connection lost during the commit is settled by asking the database whether the
 * transaction committed ({@linkcode settleLostCommit}): committed, the result stands. A row
 * refused by a check constraint fails the whole call: see {@linkcode isRowError} and
 * {@linkcode storeEvents}, which falls back to one event at a time.
 *
 * @param db The database.
 * @param events The checked events, with distinct indexes.
 * @returns The stored indexes and the rejections, once committed.
 */
export function storeTogether(db: Database, events: CheckedEvent[]): Promise<StoredTogether> {
  return againOnDuplicate(() => {
    let done: Done<StoredTogether> | undefined;
    return actAsServiceRole(db, async (tx) => {
      const one = await insertRows(tx, events);
      done = { xid: one.xid, result: { stored: one.stored, rejected: rejections(one) } };
      return done.result;
    }).catch((error) => settleLostCommit(db, error, done));
  });
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
): Promise<StoredEvents> {
  if (events.length === 0) return { accepted: 0, duplicates: 0, rejected: [] };
  let one: StoredTogether;
  try {
    one = await storeTogether(db, events);
  } catch (error) {
    if (!isRowError(error)) throw error;
    return await storeOneByOne(db, events);
  }
  const accepted = one.stored.length;
  return {
    accepted,
    duplicates: events.length - one.rejected.length - accepted,
    rejected: one.rejected,
  };
}

/**
 * Stores checked events one transaction each, as `service_role`: the fallback once a
 * statement storing them together was refused for one row's values. Each refused event
 * is rejected alone with the field at fault; the others are stored.
 *
 * @param db The database.
 * @param events The checked events.
 * @returns How many were stored, how many were duplicates, and the events refused.
 */
export async function storeOneByOne(
  db: Database,
  events: CheckedEvent[],
): Promise<StoredEvents> {
  // Savepoints are not portable across the two drivers: postgres.js fails the whole
  // transaction on any error inside it.
  let accepted = 0;
  const rejected: Rejection[] = [];
  for (const event of events) {
    try {
      const one = await storeTogether(db, [event]);
      accepted += one.stored.length;
      rejected.push(...one.rejected);
    } catch (error) {
      if (!isRowError(error)) throw error;
      rejected.push(rowRejection(event.index, error));
    }
  }
  return { accepted, duplicates: events.length - rejected.length - accepted, rejected };
}
