/**
 * The idempotency horizon's contract, on PostgreSQL 15 and on PGlite: a retry of an event
 * whose id was received within the horizon (one day by default) fails with 23505
 * (constraint events_pkey) and stores nothing, whatever timestamp it carries; once the
 * nightly job has forgotten the id (received before the horizon), the retry is stored
 * again; `event_id_horizon_days` in beacon.settings changes the horizon.
 */
import assert from "node:assert/strict";
import type { Database } from "../database/mod.ts";
import { missingPostgres15, skipWithoutPostgres15 } from "./support/postgres15.ts";
import { openMigratedPglite, startMigratedPostgres15 } from "./support/database.ts";

/** Inserts one event with this id (as the owner, like a direct insert), `daysAgo` old. */
function insert(db: Database, id: string, daysAgo: number) {
  return db.query(
    `insert into public.events (id, event_type, anonymous_id, "timestamp")
     values ($1, 'horizon_retry', 'horizon-test', now() - make_interval(days => $2::int))`,
    [id, daysAgo],
  );
}

/** Makes the stored id look received `hours` hours ago. */
async function receivedHoursAgo(db: Database, id: string, hours: number) {
  await db.query(
    "update private.event_ids set received_at = now() - make_interval(hours => $2::int) where id = $1",
    [id, hours],
  );
}

async function stored(db: Database, id: string): Promise<number> {
  const [{ n }] = await db.query<{ n: number }>(
    "select count(*)::int as n from public.events where id = $1",
    [id],
  );
  return n;
}

function isDuplicate(error: { code?: string; message?: string }) {
  assert.equal(error.code, "23505");
  assert.match(error.message ?? "", /events_pkey/);
  return true;
}

async function nightly(db: Database): Promise<number> {
  const [{ done }] = await db.query<{ done: { ids_pruned: number } }>(
    "select beacon.maintain_raw_events() as done",
  );
  return done.ids_pruned;
}

async function checkHorizon(db: Database) {
  const [{ days }] = await db.query<{ days: number }>(
    "select private.event_id_horizon_days() as days",
  );
  assert.equal(days, 1, "the default horizon is one day");

  // Received 23 hours ago: still within the horizon, even after the nightly job.
  const recent = crypto.randomUUID();
  await insert(db, recent, 0);
  await receivedHoursAgo(db, recent, 23);
  await nightly(db);
  await assert.rejects(insert(db, recent, 3), isDuplicate);
  assert.equal(await stored(db, recent), 1);

  // Received 25 hours ago: forgotten by the nightly job, and a retry is stored again.
  const old = crypto.randomUUID();
  await insert(db, old, 1);
  await receivedHoursAgo(db, old, 25);
  await assert.rejects(insert(db, old, 1), isDuplicate, "not yet pruned: still refused");
  assert.ok(await nightly(db) >= 1);
  await insert(db, old, 1);
  assert.equal(await stored(db, old), 2);

  // A longer horizon set in the database: an id received 3 days ago is still remembered.
  await db.query(
    `insert into beacon.settings (key, value) values ('event_id_horizon_days', '7')
     on conflict (key) do update set value = excluded.value`,
  );
  const kept = crypto.randomUUID();
  await insert(db, kept, 0);
  await receivedHoursAgo(db, kept, 72);
  await nightly(db);
  await assert.rejects(insert(db, kept, 5), isDuplicate);
  assert.equal(await stored(db, kept), 1);
  await db.query("delete from beacon.settings where key = 'event_id_horizon_days'");
}

const missing = await missingPostgres15();
Deno.test({
  name:
    "a retry within the one-day idempotency horizon fails with 23505 and after it is stored again (PostgreSQL 15)",
  ignore: skipWithoutPostgres15(missing),
  async fn() {
    assert.deepEqual(missing, []);
    const { pg, db } = await startMigratedPostgres15();
    try {
      await checkHorizon(db);
    } finally {
      await db.close();
      await pg.stop();
    }
  },
});

Deno.test("a retry within the one-day idempotency horizon fails with 23505 and after it is stored again (PGlite)", async () => {
  const db = await openMigratedPglite();
  try {
    await checkHorizon(db);
  } finally {
    await db.close();
  }
});
