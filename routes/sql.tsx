/**
 * `/analytics/sql`: the SQL page, for superusers and analysts. The schema browser and the
 * saved queries are read here as the signed-in user; the query box is an island that runs
 * queries through `/api/v1/sql/query` (routes/api/sql.ts). `?sql=` holds the query, so the
 * address can be shared; it runs on load.
 *
 * @module
 */
import { Hono } from "hono";
import type { AppEnv } from "./_deps.ts";
import { Layout } from "../components/Layout.tsx";
import { type SchemaObject, SqlSchema } from "../components/SqlSchema.tsx";
import { sendPage } from "./_page.ts";
import { asViewer, csrfToken } from "./_viewer.ts";
import { requireSuperuserPage } from "./_guards.tsx";
import { island } from "../hydration/render.ts";
import SqlEditor from "../islands/SqlEditor.tsx";
import { listSavedQueries } from "../analytics/saved_queries.ts";

const Editor = island("SqlEditor", SqlEditor);
const sqlPage = new Hono<AppEnv>();
sqlPage.use("/analytics/sql", requireSuperuserPage());

sqlPage.get("/analytics/sql", async (c) => {
  const { objects, saved } = await asViewer(c, async (tx) => ({
    objects: await tx.query<SchemaObject>("select * from analytics.sql_schema()"),
    saved: await listSavedQueries(tx),
  }));
  const claims = c.var.viewer.claims;
  const initialSql = (c.req.query("sql") ?? "").slice(0, 100_000);
  return sendPage(
    c,
    <Layout title="SQL" current="sql" email={claims.email ?? claims.sub} csrf={csrfToken(c)}>
      <h1>SQL</h1>
      <p class="muted">
        One read-only query at a time, run as you: row-level security decides what it sees. The
        first 10,000 rows show here; the CSV holds the rest.
      </p>
      <div class="grid2">
        <Editor initialSql={initialSql} saved={saved} />
        <SqlSchema objects={objects} />
      </div>
    </Layout>,
  );
});

export default sqlPage;
