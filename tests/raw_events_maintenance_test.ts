/**
 * The nightly raw-event maintenance at scale: forgetting old ids reads the idempotency
 * horizon once per run, not once per id kept (with millions of ids it took hours).
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
        const [{ calls }] = await tx.query<{ calls: number }>(
          `select coalesce(pg_stat_get_xact_function_calls(
                    'private.event_id_horizon_days()'::regprocedure), 0)::int as calls`,
        );
        return [{ pruned: done.ids_pruned, calls }];
      });
      assert.equal(counted.pruned, 3000);
      assert.ok(counted.calls >= 1, "the horizon was read");
      assert.ok(counted.calls <= 3, `the horizon was read ${counted.calls} times`);
      const [{ left }] = await db.query<{ left: number }>(
        "select count(*)::int as left from private.event_ids",
      );
      assert.equal(left, 3000);
    } finally {
      await admin.close();
      await db.close();
      await pg.stop();
    }
  },
});
