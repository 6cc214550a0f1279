/**
 * Bytes per event on disk: the heap, every index and the TOAST table (with its index) of
 * `public.events` (every partition of it when it is partitioned) and of the tables that
 * exist only for events (the idempotency ids), against today's unpartitioned schema loaded
 * with the same data in the same run.
 *
 * Standalone: `deno run -A bench/size.ts` (BENCH_SIZE_EVENTS, default 1 000 000;
 * BENCH_SIZE_HORIZONS=1,7,35 also prints the ids' share at other idempotency horizons).
 *
 * @module
 */
import type { Queryable } from "../database/mod.ts";
import { CHUNK, generateEventChunk, generateUsers } from "./data.ts";

/** Sizes of one events table and what belongs to it, in bytes. */
export interface EventBytes {
  /** The table measured. */
  table: string;
  /** Rows in it. */
  events: number;
  /** Partitions (1 when not partitioned). */
  partitions: number;
  /** Heap (main fork) of every partition. */
  heap: number;
  /** TOAST tables and their indexes. */
  toast: number;
  /** Each index (summed over partitions), by the parent index's name. */
  indexes: Record<string, number>;
  /** Other tables (heap, TOAST and indexes) that exist only for these events. */
  extra: Record<string, number>;
  /** Everything. */
  total: number;
  /** total / events. */
  perEvent: number;
  /** The events table alone (heap, TOAST, indexes; without `extra`) / events. */
  tablePerEvent: number;
}

/**
 * Measures an events table (all its partitions) and the extra tables that serve it.
 *
 * @param db The database (as the tables' owner).
 * @param table The events table. @default "public.events"
 * @param extras Tables that exist only for the events (e.g. an idempotency id table).
 */
export async function measureEventBytes(
  db: Queryable,
  table = "public.events",
  extras: string[] = [],
): Promise<EventBytes> {
  const [head] = await db.query<
    { events: string; partitions: number; heap: string; toast: string }
  >(
    `select (select count(*) from ${table})::text as events,
            count(*)::int as partitions,
            coalesce(sum(pg_relation_size(c.oid)), 0)::text as heap,
            coalesce(sum(case when c.reltoastrelid <> 0
                              then pg_total_relation_size(c.reltoastrelid) else 0 end), 0)::text as toast
       from (select relid from pg_partition_tree($1::regclass) union select $1::regclass) t
       join pg_class c on c.oid = t.relid
      where c.relkind = 'r'`,
    [table],
  );
  const indexRows = await db.query<{ name: string; bytes: string }>(
    `select coalesce(pg_partition_root(i.indexrelid), i.indexrelid)::regclass::text as name,
            sum(pg_relation_size(i.indexrelid))::text as bytes
       from (select relid from pg_partition_tree($1::regclass) union select $1::regclass) t
       join pg_index i on i.indrelid = t.relid
      group by 1 order by 1`,
    [table],
  );
  const indexes: Record<string, number> = {};
  for (const r of indexRows) indexes[r.name] = Number(r.bytes);
  const extra: Record<string, number> = {};
  for (const name of extras) {
    const [{ bytes }] = await db.query<{ bytes: string }>(
      `select coalesce(sum(pg_total_relation_size(t.relid)), 0)::text as bytes
         from (select relid from pg_partition_tree($1::regclass) union select $1::regclass) t`,
      [name],
    );
    extra[name] = Number(bytes);
  }
  const events = Number(head.events);
  const own = Number(head.heap) + Number(head.toast) +
    Object.values(indexes).reduce((a, b) => a + b, 0);
  const total = own + Object.values(extra).reduce((a, b) => a + b, 0);
  return {
    table,
    events,
    partitions: head.partitions,
    heap: Number(head.heap),
    toast: Number(head.toast),
    indexes,
    extra,
    total,
    perEvent: events === 0 ? 0 : total / events,
    tablePerEvent: events === 0 ? 0 : own / events,
  };
}

/** Today's (issue 11) events table, without access rules: the baseline of the size run. */
export const LEGACY_EVENTS = `
create schema if not exists bench_legacy;
create table bench_legacy.events (
  id uuid primary key default gen_random_uuid(),
  seq bigint generated always as identity,
  event_type text not null check (char_length(event_type) between 1 and 200),
  user_id uuid default auth.uid(),
  anonymous_id text check (anonymous_id is null or char_length(anonymous_id) between 1 and 200),
  payload jsonb not null default '{}'::jsonb
    check (jsonb_typeof(payload) = 'object' and pg_column_size(payload) <= 65536),
  "timestamp" timestamptz not null default now(),
  received_at timestamptz not null default now(),
  txid xid8 not null default pg_current_xact_id(),
  constraint events_actor_check check (user_id is not null or anonymous_id is not null),
  constraint events_timestamp_not_future check ("timestamp" <= received_at + interval '1 day')
);
create unique index on bench_legacy.events (txid, seq);
create index on bench_legacy.events ("timestamp", id);
create index on bench_legacy.events ("timestamp", user_id) where event_type = 'user_signup';`;

/** The tables Beacon keeps only for its raw events, besides public.events itself. */
export async function eventExtras(db: Queryable): Promise<string[]> {
  const rows = await db.query<{ name: string }>(
    `select c.oid::regclass::text as name from pg_class c
      where c.oid = to_regclass('private.event_ids')`,
  );
  return rows.map((r) => r.name);
}

/** The size run's answer: both schemas, and how much smaller the current one is. */
export interface EventSizes {
  current: EventBytes;
  legacy: EventBytes;
  /** The idempotency horizon the ids were kept for (private.event_id_horizon_days()). */
  horizonDays: number;
  /** Ids in private.event_ids at steady state (received within the horizon). */
  idsKept: number;
  /** 1 - current / legacy, everything counted (the id table at steady state). */
  reduction: number;
  /** 1 - current events table alone / legacy. */
  tableReduction: number;
}

/**
 * Puts `private.event_ids` in the state real traffic leaves it in: every event received
 * when it happened (`received_at` = its `"timestamp"`), day after day over the data's days,
 * each day followed by the nightly prune's statement as of that day (ids received before
 * the horizon are deleted) and a vacuum (the table's autovacuum threshold is 5 %, so it
 * follows each prune). The random-key index keeps the splits this churn makes, so the size
 * is that of a table pruned for weeks, not of a fresh load.
 *
 * @param db The database (as its owner), with public.events filled.
 * @param horizonDays The idempotency horizon.
 * @param days How many days back the data goes. @default 90
 * @returns How many ids are kept.
 */
export async function replayEventIds(
  db: Queryable,
  horizonDays: number,
  days = 90,
): Promise<number> {
  await db.query("truncate private.event_ids");
  for (let d = days; d >= 0; d--) {
    await db.query(
      `insert into private.event_ids (id, received_at)
       select e.id, e."timestamp" from public.events e
        where e."timestamp" >= now() - make_interval(days => $1::int + 1)
          and e."timestamp" < now() - make_interval(days => $1::int)
        order by e."timestamp"`,
      [d],
    );
    await db.query(
      "delete from private.event_ids where received_at < now() - make_interval(days => $1::int + $2::int)",
      [d, horizonDays],
    );
    await db.query("vacuum private.event_ids");
  }
  const [{ n }] = await db.query<{ n: number }>(
    "select count(*)::int as n from private.event_ids",
  );
  return n;
}

/**
 * Bytes per event of `public.events` as it is (already filled by the caller with
 * `generateEventChunk(db, 0, users)`) against today's schema filled with the same chunk in
 * the same run, with `private.event_ids` at steady state (`replayEventIds`, at the
 * database's horizon). The baseline table is dropped afterwards; the id table keeps only the
 * ids of the horizon.
 *
 * @param db The database (as its owner).
 * @param users The users the events were generated for.
 * @param size Events generated (the chunk's size). @default {CHUNK}
 */
export async function benchEventSize(
  db: Queryable,
  users: number,
  size = CHUNK,
): Promise<EventSizes> {
  await db.exec(`drop schema if exists bench_legacy cascade; ${LEGACY_EVENTS}`);
  try {
    // The same rows in the same order: the users' signup events first, then the chunk.
    await db.query(
      `insert into bench_legacy.events (id, event_type, user_id, anonymous_id, payload, "timestamp")
       select id, event_type, user_id, anonymous_id, payload, "timestamp" from public.events
        where event_type = 'user_signup' order by seq`,
    );
    await generateEventChunk(db, 0, users, size, "bench_legacy.events");
    await db.query("vacuum analyze bench_legacy.events");
    await db.query("vacuum analyze public.events");
    const [{ horizon }] = await db.query<{ horizon: number }>(
      "select private.event_id_horizon_days() as horizon",
    );
    const idsKept = await replayEventIds(db, horizon);
    const current = await measureEventBytes(db, "public.events", await eventExtras(db));
    const legacy = await measureEventBytes(db, "bench_legacy.events");
    return {
      current,
      legacy,
      horizonDays: horizon,
      idsKept,
      reduction: 1 - current.perEvent / legacy.perEvent,
      tableReduction: 1 - current.tablePerEvent / legacy.perEvent,
    };
  } finally {
    await db.exec("drop schema if exists bench_legacy cascade");
  }
}

/**
 * Makes public.events' monthly partitions for the bench data (the last 160 days), as the
 * nightly job would have, so that nothing lands in the default partition.
 *
 * @param db The database (as its owner).
 */
export async function preparePartitions(db: Queryable): Promise<void> {
  await db.query(
    "select private.ensure_event_partitions(current_date + 62, current_date - 160)",
  );
}

/** One line per table: bytes per event and where they go. */
export function describeEventBytes(b: EventBytes): string {
  const per = (n: number) => (n / Math.max(1, b.events)).toFixed(1);
  const parts = [
    `heap ${per(b.heap)}`,
    `toast ${per(b.toast)}`,
    ...Object.entries(b.indexes).map(([k, v]) => `${k} ${per(v)}`),
    ...Object.entries(b.extra).map(([k, v]) => `${k} ${per(v)}`),
  ];
  return `${b.table}: ${b.events} events in ${b.partitions} table(s), ${
    b.perEvent.toFixed(1)
  } bytes/event, ${b.tablePerEvent.toFixed(1)} without extra tables (${parts.join(", ")})`;
}

if (import.meta.main) {
  const { startOwnMigratedPostgres15 } = await import("../tests/support/database.ts");
  const size = Number(Deno.env.get("BENCH_SIZE_EVENTS") ?? CHUNK);
  const users = Math.max(100, Math.round(size / 10));
  const { pg, db } = await startOwnMigratedPostgres15();
  try {
    await preparePartitions(db);
    await generateUsers(db, users);
    await generateEventChunk(db, 0, users, size);
    const { current, legacy, reduction, tableReduction, horizonDays, idsKept } =
      await benchEventSize(db, users, size);
    console.log(describeEventBytes(legacy));
    console.log(describeEventBytes(current));
    const ids = Object.values(current.extra).reduce((a, b) => a + b, 0);
    console.log(
      `ids at steady state (${horizonDays}-day horizon, 90 days replayed with the nightly prune): ${idsKept} ids, ${
        (ids / Math.max(1, idsKept)).toFixed(1)
      } bytes/id`,
    );
    console.log(
      `reduction: ${(tableReduction * 100).toFixed(1)} % (events table), ${
        (reduction * 100).toFixed(1)
      } % (with private.event_ids at steady state)`,
    );
    // Other horizons, to choose one (BENCH_SIZE_HORIZONS=1,2,7,35).
    for (const h of (Deno.env.get("BENCH_SIZE_HORIZONS") ?? "").split(",").filter(Boolean)) {
      const kept = await replayEventIds(db, Number(h));
      const [{ bytes }] = await db.query<{ bytes: string }>(
        "select pg_total_relation_size('private.event_ids')::text as bytes",
      );
      const all = current.tablePerEvent + Number(bytes) / current.events;
      console.log(
        `horizon ${h} days: ${kept} ids, ${
          (Number(bytes) / Math.max(1, kept)).toFixed(1)
        } bytes/id, ${(Number(bytes) / current.events).toFixed(1)} bytes/event for ids, ${
          all.toFixed(1)
        } in all, ${((1 - all / legacy.perEvent) * 100).toFixed(1)} %`,
      );
    }
  } finally {
    await db.close();
    await pg.stop();
  }
}
