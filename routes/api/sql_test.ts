import assert from "node:assert/strict";
import { createSharedSuiteApp, createUser } from "../../tests/support/app.ts";

const t = await createSharedSuiteApp();
const ann = await createUser(t.db, "ann@sql-api.test");
await t.db.query("update public.profiles set is_analyst = true where id = $1", [ann]);
const olive = await createUser(t.db, "olive@sql-api.test");

async function call(path: string, userId: string, init: RequestInit = {}) {
  return await t.app.request(path, {
    ...init,
    headers: { authorization: `Bearer ${await t.token(userId)}`, ...init.headers },
  });
}

function post(path: string, userId: string, body: unknown) {
  return call(path, userId, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
}

Deno.test("an analyst runs a query: columns with their kind, rows as text, nulls as null", async () => {
  const res = await post("/api/v1/sql/query", ann, { sql: "select 1::int as n, null::text as t" });
  assert.equal(res.status, 200);
  const body = await res.json();
  assert.deepEqual(body.columns.map((c: { kind: string }) => c.kind), ["number", "text"]);
  assert.deepEqual(body.rows, [["1", null]]);
  assert.equal(body.truncated, false);
});

Deno.test("a refused query is a 400 with PostgreSQL's fields, never a 500", async () => {
  const res = await post("/api/v1/sql/query", ann, { sql: "select 1 +" });
  assert.equal(res.status, 400);
  const body = await res.json();
  assert.equal(body.error, "query_failed");
  assert.equal(body.sqlstate, "42601");
  assert.equal(typeof body.position, "number");
});

Deno.test("the CSV holds the whole result", async () => {
  const res = await call(
    `/api/v1/sql/query.csv?sql=${encodeURIComponent("select g from generate_series(1, 3) g")}`,
    ann,
  );
  assert.equal(res.status, 200);
  assert.equal(await res.text(), "g\r\n1\r\n2\r\n3\r\n");
});

Deno.test("an ordinary user may not use the SQL API", async () => {
  const res = await post("/api/v1/sql/query", olive, { sql: "select 1" });
  assert.equal(res.status, 403);
  await res.body?.cancel();
});

Deno.test("an analyst reads the reports but takes no admin action", async () => {
  const read = await call("/api/v1/analytics/summary", ann);
  assert.equal(read.status, 200);
  await read.body?.cancel();
  const act = await call("/analytics/trends/tracked", ann, { method: "POST" });
  assert.equal(act.status, 403);
  await act.body?.cancel();
});

Deno.test("an analyst saves a query and reads it back; the schema lists the analysts' views", async () => {
  const saved = await post("/api/v1/sql/saved", ann, { name: "one", sql: "select 1" });
  assert.equal(saved.status, 201);
  await saved.body?.cancel();
  const list = await (await call("/api/v1/sql/saved", ann)).json();
  assert.deepEqual(list.queries.map((q: { name: string }) => q.name), ["one"]);
  const schema = await (await call("/api/v1/sql/schema", ann)).json();
  assert.ok(
    schema.objects.some((o: { object_name: string }) => o.object_name === "daily_overview"),
  );
});
