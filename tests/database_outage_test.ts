/**
 * PostgreSQL goes away under a running Beacon (pg_ctl stop -m immediate) and comes back:
 * meanwhile health and ingestion answer 503 "unavailable" (never 500) within a bounded
 * time, and afterwards they work again without restarting Beacon.
 */
import assert from "node:assert/strict";
import { missingPostgres15, skipWithoutPostgres15 } from "./support/postgres15.ts";
import { startOwnMigratedPostgres15 } from "./support/database.ts";
import { startTestBeacon } from "./support/beacon.ts";

const INGEST_KEY = "bk_outage_test_key_0123456789";
/** The issue asks for about 2 s; the bound is generous for a busy machine. */
const BOUND_MS = 5000;
const missing = await missingPostgres15();

async function timed(request: () => Promise<Response>) {
  const started = performance.now();
  const res = await request();
  const body = await res.json();
  return { status: res.status, body, ms: performance.now() - started };
}

Deno.test({
  name:
    "during a database outage health and ingestion answer 503 promptly, and work again after it",
  ignore: skipWithoutPostgres15(missing),
  async fn() {
    assert.deepEqual(missing, [], `missing: ${missing.join(", ")}`);
    const { pg, db: migrated } = await startOwnMigratedPostgres15();
    await migrated.close();
    const beacon = await startTestBeacon({
      database: { kind: "postgres", url: pg.url },
      ingestKey: INGEST_KEY,
    });
    const health = () => timed(() => fetch(`${beacon.url}/api/v1/health`));
    const ingest = () =>
      timed(() =>
        fetch(`${beacon.url}/api/v1/events`, {
          method: "POST",
          headers: { "content-type": "application/json", apikey: INGEST_KEY },
          body: JSON.stringify({
            event: "outage_probe",
            anonymous_id: "device-1",
            uuid: crypto.randomUUID(),
          }),
        })
      );
    try {
      assert.equal((await health()).status, 200);
      assert.equal((await ingest()).body.accepted, 1);

      await pg.kill();
      for (let round = 0; round < 3; round++) {
        for (const [what, probe] of [["health", health], ["ingestion", ingest]] as const) {
          const { status, body, ms } = await probe();
          assert.equal(status, 503, `${what} during the outage: ${JSON.stringify(body)}`);
          assert.equal(body.error, "unavailable", what);
          assert.ok(ms < BOUND_MS, `${what} answered after ${Math.round(ms)} ms`);
        }
      }

      await pg.restart();
      // The driver reconnects on its own; the first request after the restart may still
      // meet a connection the outage broke.
      let healthy = await health();
      for (let i = 0; i < 20 && healthy.status !== 200; i++) {
        await new Promise((r) => setTimeout(r, 100));
        healthy = await health();
      }
      assert.equal(healthy.status, 200, JSON.stringify(healthy.body));
      const stored = await ingest();
      assert.equal(stored.status, 200, JSON.stringify(stored.body));
      assert.equal(stored.body.accepted, 1);
      const [{ n }] = await beacon.db.query<{ n: number }>(
        "select count(*)::int as n from public.events where event_type = 'outage_probe'",
      );
      assert.equal(n, 2, "the events acknowledged before and after the outage are stored");
    } finally {
      await beacon.shutdown();
      await pg.stop();
    }
  },
});
