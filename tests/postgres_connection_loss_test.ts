/**
 * The server connection of a transaction killed under the postgres.js adapter
 * (`database/postgres.ts`): the transaction rejects with an error `isUnavailable` reads as
 * "try again" (a 503), nothing escapes as an uncaught error (postgres.js 3.4.9 otherwise
 * throws `TypeError: Cannot read properties of null (reading 'write')` from a timer when a
 * statement or its `rollback` is sent on the dead connection, porsager/postgres#1208, which
 * would end the process), and the pool serves the next query.
 */
import assert from "node:assert/strict";
import { openPostgres } from "../database/postgres.ts";
import { isUnavailable } from "../database/errors.ts";
import { missingPostgres15, skipWithoutPostgres15 } from "./support/postgres15.ts";
import { startMigratedPostgres15 } from "./support/database.ts";
import { deferred } from "./support/commit_gate.ts";
import { waitFor } from "./support/steps.ts";

const missing = await missingPostgres15();

/** Runs `fn` with a migrated database, counting errors nobody caught meanwhile. */
async function withDatabase(
  fn: (urls: { url: string; adminUrl: string }, uncaught: unknown[]) => Promise<void>,
) {
  assert.deepEqual(missing, [], `missing: ${missing.join(", ")}`);
  const { pg, db } = await startMigratedPostgres15();
  await db.close();
  const uncaught: unknown[] = [];
  const listener = (event: ErrorEvent) => {
    uncaught.push(event.error);
    event.preventDefault();
  };
  globalThis.addEventListener("error", listener);
  try {
    await fn(pg, uncaught);
    // A timer the driver queued on the dead socket would have fired by now.
    await new Promise((r) => setTimeout(r, 200));
    assert.deepEqual(uncaught.map(String), [], "no error escaped the adapter");
  } finally {
    globalThis.removeEventListener("error", listener);
    await pg.stop();
  }
}

async function killWhere(adminUrl: string, where: string): Promise<void> {
  const admin = openPostgres(adminUrl, { max: 1 });
  try {
    await waitFor(`a backend where ${where}`, async () => {
      const rows = await admin.query<{ killed: boolean }>(
        `select pg_catalog.pg_terminate_backend(pid) as killed from pg_catalog.pg_stat_activity
          where datname = current_database() and pid <> pg_catalog.pg_backend_pid() and ${where}`,
      );
      return rows.some((r) => r.killed);
    });
  } finally {
    await admin.close();
  }
}

Deno.test({
  name:
    "a transaction whose connection is killed between two statements rejects as unavailable; its next statement never reaches the dead connection",
  ignore: skipWithoutPostgres15(missing),
  fn: () =>
    withDatabase(async ({ url, adminUrl }) => {
      const db = openPostgres(url, { max: 4 });
      try {
        const gate = deferred();
        let secondAnswered = false;
        const tx = db.transaction(async (tx) => {
          await tx.query("select pg_catalog.set_config('beacon.probe', $1, true)", ["1"]);
          await gate.promise;
          await tx.query("select $1::int as x", [2]);
          secondAnswered = true;
        });
        const outcome = tx.then(() => null, (error) => error);
        await killWhere(adminUrl, "state = 'idle in transaction'");
        await new Promise((r) => setTimeout(r, 100)); // the driver sees the socket close
        gate.resolve();
        const error = await outcome;
        assert.ok(error !== null && isUnavailable(error), `rejected as unavailable: ${error}`);
        assert.equal(secondAnswered, false);
        assert.deepEqual(await db.query("select 42 as x"), [{ x: 42 }], "the pool goes on");
      } finally {
        await db.close();
      }
    }),
});

Deno.test({
  name:
    "a transaction whose connection is killed during a statement rejects as unavailable, and the pool goes on",
  ignore: skipWithoutPostgres15(missing),
  fn: () =>
    withDatabase(async ({ url, adminUrl }) => {
      const db = openPostgres(url, { max: 4 });
      try {
        const tx = db.transaction(async (tx) => {
          await tx.query("select pg_catalog.set_config('beacon.probe', $1, true)", ["1"]);
          await tx.query("select pg_catalog.pg_sleep(30)");
        });
        const outcome = tx.then(() => null, (error) => error);
        await killWhere(adminUrl, "query like '%pg_sleep(30)%'");
        const error = await outcome;
        assert.ok(error !== null && isUnavailable(error), `rejected as unavailable: ${error}`);
        assert.deepEqual(await db.query("select 42 as x"), [{ x: 42 }], "the pool goes on");
      } finally {
        await db.close();
      }
    }),
});

Deno.test({
  name:
    "a transaction failing with a protocol error on a live connection (a bind with too few parameters, 08P01) rejects with that error, not as unavailable, and rolls back and releases its connection",
  ignore: skipWithoutPostgres15(missing),
  fn: () =>
    withDatabase(async ({ url, adminUrl }) => {
      const db = openPostgres(url, { max: 1 });
      const admin = openPostgres(adminUrl, { max: 1 });
      try {
        const error = await db.transaction(async (tx) => {
          await tx.query("select pg_catalog.pg_advisory_xact_lock(4815162342)");
          // postgres.js parses the statement, learns it takes three parameters, then binds
          // the two it was given: the server answers 08P01 at ERROR level, socket open.
          await tx.query("select $1::int + $2::int + $3::int as x", [1, 2]);
        }).then(() => null, (error) => error);
        assert.equal(error?.code, "08P01", `rejected with the server's error: ${error}`);
        assert.equal(error.severity, "ERROR");
        assert.equal(isUnavailable(error), false, "a bug, not an unavailable database");
        await waitFor("the transaction rolled back and its lock released", async () => {
          const [row] = await admin.query<{ aborted: number; free: boolean }>(
            `select (select count(*)::int from pg_catalog.pg_stat_activity
                      where datname = current_database()
                        and state = 'idle in transaction (aborted)') as aborted,
                    pg_catalog.pg_try_advisory_lock(4815162342) as free`,
          );
          if (row.free) await admin.query("select pg_catalog.pg_advisory_unlock(4815162342)");
          return row.aborted === 0 && row.free;
        });
        assert.deepEqual(
          await db.query("select 42 as x"),
          [{ x: 42 }],
          "the pool's only connection was released",
        );
      } finally {
        await admin.close();
        await db.close();
      }
    }),
});
