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
