/**
 * public.events partitioned by month, on PostgreSQL 15 and on PGlite: partitions made by
 * Beacon (and the default one emptied into them), idempotency whatever timestamp a retry
 * carries (through ingestion and through a direct insert), raw retention dropping whole
 * partitions while rollups and persons stay, and late events older than the retention
 * refused with a reason.
 */
import assert from "node:assert/strict";
import type { Database } from "../database/mod.ts";
import { actAsUser } from "../database/act_as.ts";
import type { CheckedEvent } from "../ingest/event.ts";
import { storeEvents } from "../ingest/store.ts";
import { missingPostgres15, skipWithoutPostgres15 } from "./support/postgres15.ts";
import { openMigratedPglite, startMigratedPostgres15 } from "./support/database.ts";

const DAY = 86_400_000;

function event(
  eventType: string,
  timestamp: string | null,
  over: Partial<CheckedEvent> = {},
  index = 0,
): CheckedEvent {
  return {
    index,
    id: crypto.randomUUID(),
    eventType,
    userId: null,
    anonymousId: "raw-test",
    properties: {},
    timestamp,
    ...over,
  };
}

const daysAgo = (n: number) => new Date(Date.now() - n * DAY).toISOString();

async function partitions(db: Database): Promise<string[]> {
  const rows = await db.query<{ name: string }>(
    `select c.relname as name from pg_inherits i join pg_class c on c.oid = i.inhrelid
      where i.inhparent = 'public.events'::regclass order by 1`,
  );
  return rows.map((r) => r.name);
}

async function count(db: Database, where: string, params: unknown[] = []): Promise<number> {
  const [{ n }] = await db.query<{ n: number }>(
    `select count(*)::int as n from public.events where ${where}`,
    params,
  );
  return n;
}

async function checkPartitions(db: Database) {
  const [{ kind }] = await db.query<{ kind: string }>(
    "select relkind::text as kind from pg_class where oid = 'public.events'::regclass",
  );
  assert.equal(kind, "p");
  const month = (offset: number) => {
    const d = new Date();
    d.setUTCDate(1);
    d.setUTCMonth(d.getUTCMonth() + offset);
    return `events_${d.toISOString().slice(0, 7).replace("-", "_")}`;
  };
  const made = await partitions(db);
  for (const name of [month(0), month(1), month(2), "events_default"]) {
    assert.ok(made.includes(name), `${name} in ${made.join(", ")}`);
  }
  // An event long before every partition lands in the default one, and moves into its
  // month's partition when that is made.
  const old = daysAgo(200);
  const oldMonth = `${old.slice(0, 7)}-01`;
  const stored = await storeEvents(db, [event("ancient", old)]);
  assert.equal(stored.accepted, 1);
  const [{ place }] = await db.query<{ place: string }>(
    "select tableoid::regclass::text as place from public.events where event_type = 'ancient'",
  );
  assert.equal(place, "event_partitions.events_default");
  const [{ n }] = await db.query<{ n: number }>(
    "select private.ensure_event_partitions($1::date, $1::date) as n",
    [oldMonth],
  );
  assert.equal(n, 1);
  const [{ place: moved }] = await db.query<{ place: string }>(
    "select tableoid::regclass::text as place from public.events where event_type = 'ancient'",
  );
  assert.equal(moved, `event_partitions.events_${old.slice(0, 7).replace("-", "_")}`);
  assert.equal(await count(db, "event_type = 'ancient'"), 1);
  // Payloads compressed with lz4 wherever the server has it, in every partition.
  const compression = await db.query<{ lz4: boolean; kinds: string[] }>(
    `select (select 'lz4' = any (enumvals) from pg_settings where name = 'default_toast_compression') as lz4,
            array_agg(distinct a.attcompression::text) as kinds
       from (select relid from pg_partition_tree('public.events')) t
       join pg_attribute a on a.attrelid = t.relid and a.attname = 'payload'`,
  );
  assert.deepEqual(compression[0].kinds, [compression[0].lz4 ? "l" : ""]);
}

async function checkIdempotency(db: Database) {
  const first = event("retried", daysAgo(1));
  assert.equal((await storeEvents(db, [first])).accepted, 1);
  // The same id, with another timestamp (another month), and twice in one request.
  const again = { ...first, timestamp: daysAgo(45) };
  const retry = await storeEvents(db, [again, { ...again, index: 1, timestamp: null }]);
  assert.deepEqual(retry, { accepted: 0, duplicates: 2, rejected: [] });
  // Concurrent requests carrying the same new ids store each once.
  const batch = Array.from({ length: 50 }, (_, i) => event("racing", null, {}, i));
  const results = await Promise.all([
    storeEvents(db, batch),
    storeEvents(db, batch.map((e) => ({ ...e, timestamp: daysAgo(2) }))),
    storeEvents(db, batch),
  ]);
  assert.equal(results.reduce((sum, r) => sum + r.accepted, 0), 50);
  assert.equal(await count(db, "event_type = 'racing'"), 50);
  assert.equal(await count(db, "id = $1", [first.id]), 1);

  // supabase-js's contract: a plain retry fails with 23505 whatever its timestamp.
  const [{ id: user }] = await db.query<{ id: string }>(
    "select beacon.create_user('raw-' || gen_random_uuid() || '@raw.test', 'raw-password', false)::text as id",
  );
  const id = crypto.randomUUID();
  const insert = (ts: string) =>
    actAsUser(db, { sub: user }, (tx) =>
      tx.query(
        `insert into public.events (id, event_type, "timestamp") values ($1, 'app_retry', $2)`,
        [id, ts],
      ));
  await insert(daysAgo(0));
  await assert.rejects(insert(daysAgo(40)), (error: { code?: string; message?: string }) => {
    assert.equal(error.code, "23505");
    assert.match(error.message ?? "", /events_pkey/);
    return true;
  });
  assert.equal(await count(db, "id = $1", [id]), 1);

  // Past the horizon the id is forgotten (documented): the nightly job prunes it.
  await db.query(
    "update private.event_ids set received_at = now() - interval '36 days' where id = $1",
    [first.id],
  );
  const [{ done }] = await db.query<{ done: { ids_pruned: number } }>(
    "select beacon.maintain_raw_events() as done",
  );
  assert.ok(done.ids_pruned >= 1);
  assert.equal(
    (await db.query("select 1 from private.event_ids where id = $1", [first.id])).length,
    0,
  );
}

async function checkRetention(db: Database) {
  // Events 150 and 20 days ago; an anonymous visitor linked to a user 150 days ago.
  const [{ id: user }] = await db.query<{ id: string }>(
    "select beacon.create_user('kept-' || gen_random_uuid() || '@raw.test', 'raw-password', false)::text as id",
  );
  await db.query("select private.ensure_event_partitions(current_date, current_date - 160)");
  const stored = await storeEvents(db, [
    event("old_view", daysAgo(150), { userId: user, anonymousId: "linked-visitor" }, 0),
    event("old_view", daysAgo(150), {}, 1),
    event("recent_view", daysAgo(20), {}, 2),
  ]);
  assert.equal(stored.accepted, 3);
  await db.query("select analytics.run_daily_aggregation()");
  const rollups = () =>
    db.query<{ day: string; metric: string; dimension: string; value: string }>(
      `select day::text, metric, dimension, value::text from analytics.daily_metrics
        where day < current_date - 100 order by 1, 2`,
    );
  const before = await rollups();
  assert.ok(before.length > 0);
  const oldMonth = `events_${daysAgo(150).slice(0, 7).replace("-", "_")}`;
  assert.ok((await partitions(db)).includes(oldMonth));

  const persons = () =>
    db.query<{ ids: number; bits: number; links: number }>(
      `select (select count(*)::int from analytics.person_ids) as ids,
              (select count(*)::int from analytics.person_day_bits) as bits,
              (select count(*)::int from analytics.person_links) as links`,
    );
  const personsBefore = await persons();
  assert.ok(personsBefore[0].ids > 0 && personsBefore[0].bits > 0);
  await db.query(
    "insert into beacon.settings (key, value) values ('raw_retention_days', '60') on conflict (key) do update set value = excluded.value",
  );
  const [{ done }] = await db.query<{ done: { partitions_dropped: string[] } }>(
    "select beacon.maintain_raw_events() as done",
  );
  assert.ok(done.partitions_dropped.includes(oldMonth), JSON.stringify(done));
  assert.ok(!(await partitions(db)).includes(oldMonth));
  assert.equal(await count(db, "event_type = 'old_view'"), 0);
  assert.equal(await count(db, "event_type = 'recent_view'"), 1);
  assert.deepEqual(await rollups(), before);
  assert.deepEqual(await persons(), personsBefore);
  const links = await db.query(
    "select 1 from analytics.person_links where anonymous_id = 'linked-visitor'",
  );
  assert.equal(links.length, 1);

  // A late event older than the retention: refused with a reason, alone.
  const late = await storeEvents(db, [
    event("late", daysAgo(90), {}, 0),
    event("late", daysAgo(10), {}, 1),
  ]);
  assert.equal(late.accepted, 1);
  assert.equal(late.rejected.length, 1);
  assert.equal(late.rejected[0].index, 0);
  assert.equal(late.rejected[0].field, "timestamp");
  assert.match(late.rejected[0].reason, /older than the raw-event retention/);
  // And inserted directly (supabase-js): 23514.
  await assert.rejects(
    db.query(
      `insert into public.events (event_type, anonymous_id, "timestamp") values ('late', 'v', now() - interval '90 days')`,
    ),
    (error: { code?: string }) => error.code === "23514",
  );
  // Months entirely older than the retention are not made again.
  await db.query("select private.ensure_event_partitions(current_date, current_date - 160)");
  assert.ok(!(await partitions(db)).includes(oldMonth));
  await db.query("delete from beacon.settings where key = 'raw_retention_days'");
}

async function checkAll(db: Database) {
  await checkPartitions(db);
  await checkIdempotency(db);
  await checkRetention(db);
}

const missing = await missingPostgres15();
Deno.test({
  name: "partitioned events on PostgreSQL 15: partitions, idempotency, retention",
  ignore: skipWithoutPostgres15(missing),
  async fn() {
    assert.deepEqual(missing, []);
    const { pg, db } = await startMigratedPostgres15();
    try {
      await checkAll(db);
    } finally {
      await db.close();
      await pg.stop();
    }
  },
});

Deno.test("partitioned events on PGlite: partitions, idempotency, retention", async () => {
  const db = await openMigratedPglite();
  try {
    await checkAll(db);
  } finally {
    await db.close();
  }
});
