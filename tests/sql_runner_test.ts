/**
 * The SQL page's query runner on both adapters: each guard refuses what it must (writes,
 * `set role`, claims set with set_config, several statements, `copy`, long queries,
 * functions that try to escape) and nothing changes; results are exact and capped; errors
 * are PostgreSQL's, positioned in the text as typed.
 */
import assert from "node:assert/strict";
import type { Database } from "../database/mod.ts";
import { DEFAULT_SQL_LIMITS, runSqlQuery, SqlQueryError } from "../analytics/sql_runner.ts";
import { missingPostgres15, skipWithoutPostgres15 } from "./support/postgres15.ts";
import { openMigratedPglite, startMigratedPostgres15 } from "./support/database.ts";
import { createUser } from "./support/app.ts";

const limits = { ...DEFAULT_SQL_LIMITS, statementTimeoutMs: 400 };

async function refusal(db: Database, sub: string, sql: string): Promise<SqlQueryError> {
  try {
    await runSqlQuery(db, { sub }, sql, { limits });
  } catch (error) {
    if (error instanceof SqlQueryError) return error;
    throw error;
  }
  assert.fail(`the query ran: ${sql}`);
}

async function eventCount(db: Database): Promise<number> {
  const [{ n }] = await db.query<{ n: number }>("select count(*)::int as n from public.events");
  return n;
}

async function checkRunner(db: Database, t: Deno.TestContext) {
  const ann = await createUser(db, "ann@sql.test");
  await db.query("update public.profiles set is_analyst = true where id = $1", [ann]);
  const sam = await createUser(db, "sam@sql.test", true);
  const mary = await createUser(db, "mary@sql.test");
  await db.query(
    `insert into public.events (event_type, anonymous_id, "timestamp")
     select 'page_view', 'v' || g, now() - (g || ' hours')::interval from generate_series(1, 30) g`,
  );
  await db.query("select analytics.run_daily_aggregation()");
  // What a function an owner wrote could try: write, or change the claims unseen in the plan.
  await db.exec(`
    create function public.sneaky_write() returns int language sql security definer set search_path = ''
      as $$ insert into public.events (event_type, anonymous_id) values ('sneaky', 'x') returning 1 $$;
    create function public.become(sub text) returns int language plpgsql set search_path = ''
      as $$ begin perform set_config('request.jwt.claims', json_build_object('sub', sub, 'role', 'authenticated')::text, true); return 1; end $$;
    grant execute on function public.sneaky_write(), public.become(text) to authenticated;`);
  const before = await eventCount(db);

  await t.step("a query against a view returns the rows psql prints", async () => {
    const sql = "select * from analytics.daily_overview order by 1";
    const direct = await db.queryText(sql);
    const result = await runSqlQuery(db, { sub: ann }, sql, { limits });
    assert.ok(direct.rows.length > 0);
    assert.deepEqual(result.rows, direct.rows);
    assert.deepEqual(result.columns.map((c) => c.name), direct.fields.map((f) => f.name));
    assert.equal(result.columns[0].kind, "date");
    assert.ok(result.columns.some((c) => c.kind === "number"));
  });

  await t.step("nulls stay null and a ';' inside a string is not a second statement", async () => {
    const result = await runSqlQuery(db, { sub: ann }, "select null::int as n, ';' as s;", {
      limits,
    });
    assert.deepEqual(result.rows, [[null, ";"]]);
  });

  await t.step("RLS decides: an ordinary user's query reads no events", async () => {
    const result = await runSqlQuery(db, { sub: mary }, "select count(*) from public.events", {
      limits,
    });
    assert.deepEqual(result.rows, [["0"]]);
  });

  await t.step("rows beyond the cap are not returned and the result says so", async () => {
    const result = await runSqlQuery(db, { sub: ann }, "select g from generate_series(1, 150) g", {
      limits,
      maxRows: 100,
    });
    assert.equal(result.rows.length, 100);
    assert.equal(result.truncated, true);
  });

  await t.step("a write is refused and changes nothing", async () => {
    const e = await refusal(
      db,
      sam,
      "insert into public.events (event_type, anonymous_id) values ('x', 'y')",
    );
    assert.equal(e.code, "read_only");
    assert.equal(await eventCount(db), before);
  });

  await t.step("a write inside WITH is refused by PostgreSQL and changes nothing", async () => {
    const e = await refusal(
      db,
      sam,
      "with d as (delete from public.events returning 1) select count(*) from d",
    );
    assert.equal(e.code, "query_failed");
    assert.equal(await eventCount(db), before);
  });

  await t.step("a function that writes is stopped by the read-only transaction", async () => {
    const e = await refusal(db, sam, "select public.sneaky_write()");
    assert.equal(e.sqlstate, "25006");
    assert.equal(await eventCount(db), before);
  });

  await t.step("set role is refused", async () => {
    const e = await refusal(db, ann, "set role service_role");
    assert.equal(e.code, "read_only");
  });

  await t.step("set_config of the claims is refused", async () => {
    const e = await refusal(
      db,
      mary,
      `select set_config('request.jwt.claims', '{"sub":"${sam}","role":"authenticated"}', true), (select count(*) from public.events)`,
    );
    assert.equal(e.code, "refused_function");
  });

  await t.step("SQL run from a string (query_to_xml) is refused", async () => {
    const e = await refusal(
      db,
      mary,
      "select query_to_xml(format('select %s', 1), true, false, '')",
    );
    assert.equal(e.code, "refused_function");
  });

  await t.step("a claims change hidden inside a function discards the result", async () => {
    const e = await refusal(db, mary, `select public.become('${sam}'), 1 as one`);
    assert.equal(e.code, "identity_changed");
  });

  await t.step("more than one statement is refused", async () => {
    const e = await refusal(db, sam, "select 1; delete from public.events");
    assert.equal(e.code, "one_statement_only");
    assert.equal(e.position, 9);
    assert.equal(await eventCount(db), before);
  });

  await t.step("copy is refused", async () => {
    const e = await refusal(db, sam, "copy public.events to stdout");
    assert.equal(e.code, "read_only");
  });

  await t.step("sleeping is refused", async () => {
    const e = await refusal(db, sam, "select pg_sleep(5)");
    assert.equal(e.code, "refused_function");
  });

  await t.step("PostgreSQL's error comes back positioned in the text as typed", async () => {
    const e = await refusal(db, ann, "select nope from public.events");
    assert.equal(e.code, "query_failed");
    assert.equal(e.sqlstate, "42703");
    assert.equal(e.position, 8);
    assert.match(e.message, /nope/);
  });

  const endless = "select count(*) from generate_series(1, 100000000000) g";
  const recursive =
    "with recursive r(n) as (select 1 union all select n + 1 from r where n < 5) select * from r";
  if (db.kind === "postgres") {
    await t.step("a long-running query is stopped by the statement timeout", async () => {
      const e = await refusal(db, sam, endless);
      assert.equal(e.sqlstate, "57014");
    });
    await t.step("recursive queries run on PostgreSQL", async () => {
      const result = await runSqlQuery(db, { sub: ann }, recursive, { limits });
      assert.equal(result.rows.length, 5);
    });
  } else {
    await t.step("embedded: a query above the cost limit is refused before it runs", async () => {
      const e = await refusal(db, sam, endless);
      assert.equal(e.code, "too_costly");
    });
    await t.step("embedded: a recursive query is refused", async () => {
      const e = await refusal(db, sam, recursive);
      assert.equal(e.code, "recursive_query");
    });
  }
  const [{ role }] = await db.query<{ role: string }>("select current_user::text as role");
  assert.notEqual(role, "authenticated", "the role does not leak out of the transaction");
}

Deno.test("the SQL page's runner on PGlite: every guard refuses what it must", async (t) => {
  const db = await openMigratedPglite();
  try {
    await checkRunner(db, t);
  } finally {
    await db.close();
  }
});

const missing = await missingPostgres15();
Deno.test({
  name: "the SQL page's runner on PostgreSQL 15: every guard refuses what it must",
  ignore: skipWithoutPostgres15(missing),
  async fn(t) {
    assert.deepEqual(missing, []);
    const { pg, db } = await startMigratedPostgres15();
    try {
      await checkRunner(db, t);
    } finally {
      await db.close();
      await pg.stop();
    }
  },
});
