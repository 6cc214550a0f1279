/**
 * Storing a batch on PostgreSQL 15 (postgres.js fails a whole transaction on any error in
 * it; routes/api/events_test.ts covers PGlite) when the database refuses some of its rows: the good
 * events are stored, each refused one is rejected alone with the field at fault.
 */
import assert from "node:assert/strict";
import type { Database } from "../database/mod.ts";
import type { CheckedEvent } from "../ingest/event.ts";
import { storeEvents } from "../ingest/store.ts";
import { missingPostgres15, skipWithoutPostgres15 } from "./support/postgres15.ts";
import { startMigratedPostgres15 } from "./support/database.ts";

function event(
  index: number,
  eventType: string,
  timestamp: string | null = null,
  properties: Record<string, unknown> = {},
): CheckedEvent {
  return {
    index,
    id: crypto.randomUUID(),
    eventType,
    userId: null,
    anonymousId: "store-test",
    properties,
    timestamp,
  };
}

async function checkRefusedRows(db: Database) {
  const inThreeDays = new Date(Date.now() + 3 * 86_400_000).toISOString();
  const result = await storeEvents(db, [
    event(0, "kept"),
    event(1, "refused", inThreeDays),
    event(2, "kept"),
    event(3, "refused", null, { a: Array(15_000).fill(0) }),
  ]);
  assert.equal(result.accepted, 2);
  assert.equal(result.duplicates, 0);
  assert.deepEqual(result.rejected.map((r) => [r.index, r.field]), [
    [1, "timestamp"],
    [3, "properties"],
  ]);
  const rows = await db.query<{ event_type: string; n: number }>(
    `select event_type, count(*)::int as n from public.events
      where anonymous_id = 'store-test' group by 1`,
  );
  assert.deepEqual(rows, [{ event_type: "kept", n: 2 }]);
}

const missing = await missingPostgres15();
Deno.test({
  name:
    "a batch the database refuses a row of still stores its good events, on PostgreSQL 15 (check violation fallback)",
  ignore: skipWithoutPostgres15(missing),
  async fn() {
    assert.deepEqual(missing, []);
    const { pg, db } = await startMigratedPostgres15();
    try {
      await checkRefusedRows(db);
    } finally {
      await db.close();
      await pg.stop();
    }
  },
});
