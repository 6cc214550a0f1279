/**
 * The nightly raw-event maintenance at scale: forgetting old ids reads the idempotency
 * horizon once per run, not once per id kept (with millions of ids it took hours), and
 * reads the id table once when one batch forgets them all (it read it again to find none).
 */
import assert from "node:assert/strict";
import { openPostgres } from "../database/postgres.ts";
import { missingPostgres15, skipWithoutPostgres15 } from "./support/postgres15.ts";
import { startMigratedPostgres15 } from "./support/database.ts";

const missing = await missingPostgres15();
Deno.test({
  name: "the nightly maintenance reads the id horizon once, however many ids it scans",
  ignore: skipWithoutPostgres15(missing),
  async fn() {
    assert.deepEqual(missing, []);
    const { pg, db } = await startMigratedPostgres15();
    // Function call counts need track_functions, which only a superuser may set.
    const admin = openPostgres(pg.adminUrl, { max: 1 });
    try {
      // 3 000 ids received 40 days ago (past the horizon, one day by default), 3 000 received now.
      await db.query(
        `insert into private.event_ids (id, received_at)
         select gen_random_uuid(), now() - case when g % 2 = 0 then interval '40 days' else interval '0' end
           from generate_series(1, 6000) as g`,
      );
      const [counted] = await admin.transaction(async (tx) => {
        await tx.query("set local track_functions = 'all'");
        const [{ done }] = await tx.query<{ done: { ids_pruned: number } }>(
          "select beacon.maintain_raw_events() as done",
        );
        const [{ calls, scans }] = await tx.query<{ calls: number; scans: number }>(
          `select coalesce(pg_stat_get_xact_function_calls(
                    'private.event_id_horizon_days()'::regprocedure), 0)::int as calls,
                  pg_stat_get_xact_numscans('private.event_ids'::regclass)::int as scans`,
        );
        return [{ pruned: done.ids_pruned, calls, scans }];
      });
      assert.equal(counted.pruned, 3000);
      assert.equal(counted.scans, 1, "one batch, not full: the ids are read once");
      assert.ok(counted.calls >= 1, "the horizon was read");
      assert.ok(counted.calls <= 3, `the horizon was read ${counted.calls} times`);
      const [{ left }] = await db.query<{ left: number }>(
        "select count(*)::int as left from private.event_ids",
      );
      assert.equal(left, 3000);

      // More than one batch (50 000 each): every old id goes, the new ones stay.
      await db.query(
        `insert into private.event_ids (id, received_at)
         select gen_random_uuid(), now() - interval '3 days' from generate_series(1, 120000)`,
      );
      const [{ done }] = await db.query<{ done: { ids_pruned: number } }>(
        "select beacon.maintain_raw_events() as done",
      );
      assert.equal(done.ids_pruned, 120000);
      const [{ after }] = await db.query<{ after: number }>(
        "select count(*)::int as after from private.event_ids",
      );
      assert.equal(after, 3000);
    } finally {
      await admin.close();
      await db.close();
      await pg.stop();
    }
  },
});
