/**
 * The SQL page's JSON API, for superusers and analysts (as the signed-in user, RLS decides):
 * `POST /api/v1/sql/query` (`{"sql"}` → columns, rows, truncated), `GET /api/v1/sql/query.csv?sql=`
 * (the whole result up to the CSV cap), `GET /api/v1/sql/schema`, and saved queries
 * (`GET /api/v1/sql/saved`, `POST /api/v1/sql/saved` `{"name","sql"}`, `DELETE
 * /api/v1/sql/saved/:id`). A refused or failed query is a 400 with PostgreSQL's message,
 * detail, hint and position; never a 500.
 *
 * @module
 */
import { Hono } from "hono";
import type { Context } from "hono";
import type { AppEnv } from "../_deps.ts";
import { requireSuperuserApi } from "../_guards.tsx";
import { asViewer } from "../_viewer.ts";
import { csvLine } from "../../analytics/csv.ts";
import { ApiError } from "../../http/errors.ts";
import { DEFAULT_SQL_LIMITS, runSqlQuery, type SqlLimits } from "../../analytics/sql_runner.ts";
import { deleteSavedQuery, listSavedQueries, saveQuery } from "../../analytics/saved_queries.ts";

const sql = new Hono<AppEnv>();
sql.use("*", requireSuperuserApi({ analysts: "all" }));
sql.use("*", async function notCached(c, next) {
  await next();
  c.header("cache-control", "private, no-store");
});

function limitsOf(c: Context<AppEnv>): SqlLimits {
  return { ...DEFAULT_SQL_LIMITS, ...c.var.deps.config.sqlLimits };
}

/** The JSON body, or a 400 (415 for another content type, so no cross-site form posts). */
async function jsonBody(c: Context<AppEnv>): Promise<Record<string, unknown>> {
  if (!/^application\/json\b/i.test(c.req.header("content-type") ?? "")) {
    throw new ApiError(415, "unsupported_media_type", "send Content-Type: application/json");
  }
  try {
    const body = await c.req.json();
    if (body && typeof body === "object" && !Array.isArray(body)) return body;
  } catch {
    // answered below
  }
  throw new ApiError(400, "invalid_body", "the body must be a JSON object");
}

function text(body: Record<string, unknown>, field: string, max: number): string {
  const value = body[field];
  if (typeof value !== "string" || value.trim() === "" || value.length > max) {
    throw new ApiError(
      400,
      "invalid_parameter",
      `${field} must be a non-empty string of at most ${max} characters`,
      {
        field,
      },
    );
  }
  return value;
}

sql.post("/query", async (c) => {
  const query = text(await jsonBody(c), "sql", 100_000);
  const limits = limitsOf(c);
  const result = await runSqlQuery(c.var.deps.db, c.var.viewer.claims, query, { limits });
  return c.json({ ...result, max_rows: limits.maxRows });
});

sql.get("/query.csv", async (c) => {
  const query = c.req.query("sql") ?? "";
  if (!query.trim()) {
    throw new ApiError(400, "invalid_parameter", "sql is required", { field: "sql" });
  }
  const limits = limitsOf(c);
  const result = await runSqlQuery(c.var.deps.db, c.var.viewer.claims, query, {
    limits,
    maxRows: limits.csvMaxRows,
  });
  const lines = [csvLine(result.columns.map((col) => col.name))];
  for (const row of result.rows) lines.push(csvLine(row.map((v) => v ?? "")));
  c.header("content-type", "text/csv; charset=utf-8");
  c.header("content-disposition", 'attachment; filename="query.csv"');
  if (result.truncated) c.header("x-beacon-truncated", String(limits.csvMaxRows));
  return c.body(lines.join(""));
});

sql.get("/schema", async (c) => {
  const rows = await asViewer(c, (tx) => tx.query("select * from analytics.sql_schema()"));
  return c.json({ objects: rows });
});

sql.get("/saved", async (c) => c.json({ queries: await asViewer(c, listSavedQueries) }));

sql.post("/saved", async (c) => {
  const body = await jsonBody(c);
  const name = text(body, "name", 200);
  const query = text(body, "sql", 100_000);
  const id = await asViewer(c, (tx) => saveQuery(tx, name.trim(), query));
  return c.json({ id, name: name.trim() }, 201);
});

sql.delete("/saved/:id", async (c) => {
  const id = c.req.param("id");
  if (!/^[0-9a-f-]{36}$/i.test(id)) {
    throw new ApiError(400, "invalid_parameter", "id must be a saved query's id", { field: "id" });
  }
  const deleted = await asViewer(c, (tx) => deleteSavedQuery(tx, id));
  if (!deleted) throw new ApiError(404, "not_found", "no saved query of yours has this id");
  return c.body(null, 204);
});

export default sql;
