/**
 * Acting as the user on both adapters: the same call returns everything for a superuser
 * and nothing for an ordinary user, because RLS decides.
 */
import assert from "node:assert/strict";
import { actAsServiceRole, actAsUser, queryAsUser } from "../database/act_as.ts";
import type { Database } from "../database/mod.ts";
import { missingPostgres15, skipWithoutPostgres15 } from "./support/postgres15.ts";
import { openMigratedPglite, startMigratedPostgres15 } from "./support/database.ts";
import { createUser } from "./support/app.ts";
import { openPostgres } from "../database/postgres.ts";

async function checkActingAs(db: Database) {
  const sam = await createUser(db, "sam@act-as.test", true);
  const olive = await createUser(db, "olive@act-as.test");
  await db.query(
    `insert into public.events (event_type, anonymous_id) select 'page_view', 'v' || g from generate_series(1, 5) g`,
  );
  const [{ total }] = await db.query<{ total: number }>(
    "select count(*)::int as total from public.events",
  );
  const countAs = (sub: string) =>
    actAsUser(db, { sub }, async (tx) => {
      const [row] = await tx.query<{ n: number; role: string; uid: string }>(
        "select count(*)::int as n, current_user::text as role, auth.uid()::text as uid from public.events",
      );
      return row;
    });
  const asSam = await countAs(sam);
  assert.equal(asSam.n, total, "a superuser reads every event");
  assert.equal(asSam.role, "authenticated");
  assert.equal(asSam.uid, sam);
  assert.equal((await countAs(olive)).n, 0, "an ordinary user reads none");
  const summary = await actAsUser(
    db,
    { sub: olive },
    (tx) =>
      tx.query<{ total_signups: string | number }>(
        "select total_signups from analytics.summary()",
      ),
  );
  assert.equal(
    Number(summary[0].total_signups),
    0,
    "the summary shows an ordinary user nothing",
  );

  const [timeout] = await actAsUser(
    db,
    { sub: olive },
    (tx) =>
      tx.query<{ t: string }>(
        "select current_setting('statement_timeout') as t",
      ),
    { statementTimeoutMs: 1500 },
  );
  assert.equal(
    timeout.t,
    "1500ms",
    "the statement timeout is set for the transaction",
  );
  if (db.kind === "postgres") {
    // PGlite runs single-threaded in WebAssembly and cannot cancel a running statement.
    await assert.rejects(
      actAsUser(db, { sub: olive }, (tx) => tx.query("select pg_sleep(2)"), {
        statementTimeoutMs: 100,
      }),
      /statement timeout|canceling statement/,
      "the statement timeout applies",
    );
  }
  await assert.rejects(
    actAsUser(
      db,
      { sub: olive },
      (tx) => tx.query("update public.profiles set is_superuser = true"),
    ),
    /permission denied/,
  );
  // The set-up is sent ahead of the work without waiting: when it fails, its own error is
  // what the caller sees, and the work's statement does not run (as anyone).
  await assert.rejects(
    actAsUser(
      db,
      { sub: sam },
      (tx) =>
        tx.query(
          "insert into public.events (event_type, anonymous_id) values ('set_up_failed', 'v-setup')",
        ),
      { statementTimeoutMs: -5 },
    ),
    /statement_timeout|outside the valid range/,
  );
  const [{ stray }] = await db.query<{ stray: number }>(
    "select count(*)::int as stray from public.events where event_type = 'set_up_failed'",
  );
  assert.equal(stray, 0, "nothing of the work is stored when the set-up failed");
  const [{ role }] = await db.query<{ role: string }>(
    "select current_user::text as role",
  );
  assert.notEqual(
    role,
    "authenticated",
    "the role does not leak out of the transaction",
  );
  await checkQueryAsUser(db, { sam, olive, total });
  const [row] = await actAsServiceRole(
    db,
    (tx) => tx.query<{ n: number }>("select count(*)::int as n from public.events"),
  );
  assert.equal(row.n, total, "the service role reads everything");
}

/** The one-message path: the same set-up, the same RLS, nothing left behind. */
async function checkQueryAsUser(
  db: Database,
  { sam, olive, total }: { sam: string; olive: string; total: number },
) {
  const who =
    "select count(*)::int as n, current_user::text as role, auth.uid()::text as uid from public.events";
  const [asSam] = await queryAsUser<{ n: number; role: string; uid: string }>(
    db,
    { sub: sam },
    who,
  );
  assert.deepEqual(asSam, { n: total, role: "authenticated", uid: sam });
  const [asOlive] = await queryAsUser<{ n: number }>(db, { sub: olive }, who);
  assert.equal(asOlive.n, 0, "an ordinary user reads none");
  // Claims reach SQL as escaped literals: quotes, backslashes and SQL in them stay data
  // (actAsUser's set-up, which sends them all).
  const hostile = `it's \\'); drop table public.events; -- \u00e9\\`;
  const [claims] = await actAsUser(
    db,
    { sub: olive, note: hostile },
    (tx) =>
      tx.query<{ note: string; sub: string; t: string }>(
        `select current_setting('request.jwt.claims')::jsonb ->> 'note' as note,
                current_setting('request.jwt.claim.sub') as sub,
                current_setting('statement_timeout') as t`,
      ),
    { statementTimeoutMs: 1500 },
  );
  assert.deepEqual(claims, { note: hostile, sub: olive, t: "1500ms" });
  // queryAsUser sets `sub` and `role` alone (its text is what a failed statement logs).
  const [sent] = await queryAsUser<{ claims: unknown; t: string }>(
    db,
    { sub: olive, email: "olive@act-as.test", note: hostile } as { sub: string },
    `select current_setting('request.jwt.claims')::jsonb as claims,
            current_setting('statement_timeout') as t`,
    { statementTimeoutMs: 1500 },
  );
  assert.deepEqual(sent, { claims: { sub: olive, role: "authenticated" }, t: "1500ms" });
  // One message, its statements' row sets in order; a statement without rows has none.
  assert.deepEqual(
    await db.queryScript("select 1 as one; set local work_mem = '8MB'; select 2 as two"),
    [[{ one: 1 }], [{ two: 2 }]],
  );
  assert.deepEqual(
    await db.queryScript("set local work_mem = '8MB'; select 3 as three where false"),
    [[]],
  );
  await assert.rejects(
    queryAsUser(db, { sub: olive }, "set local work_mem = '8MB'"),
    /no rows description/,
    "a statement without rows is an error, not the set-up's row",
  );
  await assert.rejects(
    queryAsUser(db, { sub: "a\0b" }, "select 1"),
    /NUL/,
    "a claim no PostgreSQL text can hold is refused before anything is sent",
  );
  if (db.kind === "postgres") {
    // The timeout set by the message's first statement applies to its second.
    await assert.rejects(
      queryAsUser(db, { sub: olive }, "select pg_sleep(2)", { statementTimeoutMs: 100 }),
      /statement timeout|canceling statement/,
    );
  }
  await assert.rejects(
    queryAsUser(db, { sub: olive }, "update public.profiles set is_superuser = true returning id"),
    /permission denied/,
  );
  await assert.rejects(
    queryAsUser(
      db,
      { sub: sam },
      "insert into public.events (event_type, anonymous_id) values ('set_up_failed', 'v-one') returning id",
      { statementTimeoutMs: -5 },
    ),
    /statement_timeout|outside the valid range/,
  );
  const [after] = await db.query<{ stray: number; role: string; claims: string | null }>(
    `select (select count(*)::int from public.events where event_type = 'set_up_failed') as stray,
            current_user::text as role,
            nullif(current_setting('request.jwt.claims', true), '') as claims`,
  );
  assert.deepEqual(
    after.stray,
    0,
    "nothing of the statement is stored when the set-up failed",
  );
  assert.notEqual(after.role, "authenticated", "the role does not leak out of the message");
  assert.equal(after.claims, null, "nor do the claims");
  const [{ n: written }] = await queryAsUser<{ n: number }>(
    db,
    { sub: sam },
    "select count(*)::int as n from public.events",
  );
  assert.equal(written, total, "the connection serves the next message");
}

/** The session as it was before: no role, claims or timeout stay after a message or transaction. */
async function checkNothingStays(db: Database) {
  const session = () =>
    db.query<{ role: string; claims: string | null; t: string }>(
      `select current_user::text as role, nullif(current_setting('request.jwt.claims', true), '') as claims,
              current_setting('statement_timeout') as t`,
    );
  const [before] = await session();
  assert.notEqual(before.role, "authenticated");
  const sub = crypto.randomUUID();
  await queryAsUser(db, { sub }, "select 1 as one", { statementTimeoutMs: 1234 });
  assert.deepEqual(await session(), [before], "after a message that succeeded");
  await assert.rejects(
    queryAsUser(db, { sub }, "select pg_sleep(2)", { statementTimeoutMs: 50 }),
    /statement timeout|canceling statement/,
  );
  assert.deepEqual(await session(), [before], "after a message that failed");
  await assert.rejects(
    actAsUser(db, { sub }, (tx) => tx.query("select pg_sleep(2)"), { statementTimeoutMs: 50 }),
    /statement timeout|canceling statement/,
  );
  assert.deepEqual(await session(), [before], "after a transaction that failed");
}

Deno.test("acting as the user on PGlite: RLS decides", async () => {
  const db = await openMigratedPglite();
  try {
    await checkActingAs(db);
  } finally {
    await db.close();
  }
});

const missing = await missingPostgres15();
Deno.test({
  name: "acting as the user on PostgreSQL 15: RLS decides",
  ignore: skipWithoutPostgres15(missing),
  async fn() {
    assert.deepEqual(missing, []);
    const { pg, db } = await startMigratedPostgres15();
    try {
      await checkActingAs(db);
      // On one connection, so the reads after each message are on the connection it used.
      const one = openPostgres(pg.url, { max: 1 });
      try {
        await checkNothingStays(one);
      } finally {
        await one.close();
      }
    } finally {
      await db.close();
      await pg.stop();
    }
  },
});
