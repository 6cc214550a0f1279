/**
 * The upgrade in place: a database migrated up to just before public.events was
 * partitioned, filled with bench events, gets the conversion while writers keep inserting.
 * Every row before it is still there once and unchanged, every insert acknowledged during it
 * is there once, and arrival order goes on.
 *
 * UPGRADE_TEST_EVENTS sets the size (default 100 000; the figure, 1 000 000, was run
 * by hand: see docs/SCALING.md).
 */
import assert from "node:assert/strict";
import { openPostgres } from "../database/postgres.ts";
import { applyBootstrap, applyMigrations, readMigrations } from "../database/migrate.ts";
import { generateEventChunk, generateUsers } from "../bench/data.ts";
import { missingPostgres15, skipWithoutPostgres15 } from "./support/postgres15.ts";
import { startEmptyPostgres15 } from "./support/database.ts";

const CONVERSION = "20261127005000";
const EVENTS = Number(Deno.env.get("UPGRADE_TEST_EVENTS") ?? 100_000);

/** The migrations before the conversion, in a folder of their own. */
async function migrationsBefore(version: string): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "beacon-upgrade-" });
  for (const m of await readMigrations()) {
    if (m.version < version) await Deno.writeTextFile(`${dir}/${m.version}_${m.name}.sql`, m.sql);
  }
  return dir;
}

const FINGERPRINT = `select count(*)::bigint::text as n,
  sum(hashtext(id::text || seq || event_type || coalesce(user_id::text, '') || coalesce(anonymous_id, '')
      || payload::text || "timestamp"::text || received_at::text || txid::text)::bigint)::text as sum
  from public.events where event_type <> 'during_upgrade'`;

const missing = await missingPostgres15();
Deno.test({
  name:
    `the conversion to partitions keeps every row, with writers inserting during it (${EVENTS} events)`,
  ignore: skipWithoutPostgres15(missing),
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    assert.deepEqual(missing, []);
    const pg = await startEmptyPostgres15();
    const admin = openPostgres(pg.adminUrl, { max: 1 });
    const db = openPostgres(pg.url, { max: 1 });
    const before = await migrationsBefore(CONVERSION);
    try {
      await applyBootstrap(admin);
      await applyMigrations(db, { bootstrap: "never", migrationsDir: before });
      await generateUsers(db, 1000);
      await generateEventChunk(db, 0, 1000, EVENTS);
      const [old] = await db.query<{ n: string; sum: string }>(FINGERPRINT);
      const [{ max_seq }] = await db.query<{ max_seq: string }>(
        "select max(seq)::text as max_seq from public.events",
      );

      // Writers: plain inserts of 50 events, as apps and the ingest route make them.
      let stop = false;
      const acked: string[] = [];
      const failures: unknown[] = [];
      const writer = async () => {
        const conn = openPostgres(pg.url, { max: 1 });
        try {
          while (!stop) {
            const ids = Array.from({ length: 50 }, () => crypto.randomUUID());
            try {
              await conn.query(
                `insert into public.events (id, event_type, anonymous_id)
                 select i, 'during_upgrade', 'upgrade-writer' from unnest($1::uuid[]) as i`,
                [ids],
              );
              acked.push(...ids);
            } catch (error) {
              failures.push(error);
            }
            await new Promise((r) => setTimeout(r, 10));
          }
        } finally {
          await conn.close();
        }
      };
      const writers = [writer(), writer(), writer()];
      while (acked.length < 150 && failures.length === 0) {
        await new Promise((r) => setTimeout(r, 20));
      }
      const ackedBefore = acked.length;
      const started = performance.now();
      const { applied } = await applyMigrations(db, { bootstrap: "never" });
      const seconds = (performance.now() - started) / 1000;
      assert.ok(applied.includes(CONVERSION));
      await new Promise((r) => setTimeout(r, 300));
      stop = true;
      await Promise.all(writers);
      console.log(
        `converted ${EVENTS} events (and the rest of the migrations) in ${
          seconds.toFixed(1)
        } s; ${acked.length} events written meanwhile (${ackedBefore} before it started)`,
      );

      assert.deepEqual(failures, [], "no write failed: they waited for the conversion");
      const [{ horizon }] = await db.query<{ horizon: number }>(
        "select private.event_id_horizon_days() as horizon",
      );
      assert.equal(horizon, 35, "a database with events keeps the 35-day horizon it was promised");
      assert.ok(acked.length > ackedBefore, "writes went on after the conversion");
      const [kind] = await db.query<{ kind: string }>(
        "select relkind::text as kind from pg_class where oid = 'public.events'::regclass",
      );
      assert.equal(kind.kind, "p");
      assert.deepEqual((await db.query(FINGERPRINT))[0], old, "every earlier row, once, unchanged");
      const [during] = await db.query<{ n: number; distinct_ids: number; found: number }>(
        `select count(*)::int as n, count(distinct id)::int as distinct_ids,
                count(*) filter (where id = any ($1::uuid[]))::int as found
           from public.events where event_type = 'during_upgrade'`,
        [acked],
      );
      assert.deepEqual(during, {
        n: acked.length,
        distinct_ids: acked.length,
        found: acked.length,
      });
      const [whole] = await db.query<{ n: number; ids: number; seqs: number }>(
        `select count(*)::int as n, count(distinct id)::int as ids, count(distinct seq)::int as seqs
           from public.events`,
      );
      assert.equal(whole.ids, whole.n);
      assert.equal(whole.seqs, whole.n);
      // Arrival order goes on after the old rows, and a retry is still refused.
      const [next] = await db.query<{ seq: string; id: string }>(
        `insert into public.events (event_type, anonymous_id) values ('after_upgrade', 'v')
         returning seq::text, id::text`,
      );
      assert.ok(BigInt(next.seq) > BigInt(max_seq));
      await assert.rejects(
        db.query(
          `insert into public.events (id, event_type, anonymous_id, "timestamp")
           values ($1, 'after_upgrade', 'v', now() - interval '40 days')`,
          [next.id],
        ),
        (error: { code?: string }) => error.code === "23505",
      );
    } finally {
      await db.close();
      await admin.close();
      await pg.stop();
      await Deno.remove(before, { recursive: true });
    }
  },
});
