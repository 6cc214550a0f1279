/**
 * Runs an analyst's query for the SQL page, safely: as the signed-in user (RLS decides), in
 * a read-only transaction, under a statement timeout, one read statement only, its plan
 * checked first (no function that changes the session or sleeps; in embedded mode a cost
 * limit, because PGlite cannot cancel a running statement), its rows read through a cursor
 * up to a cap, and the session's identity checked again before any row is returned.
 * PostgreSQL's own errors come back as {@linkcode SqlQueryError} with its message, detail,
 * hint and position (in the text as typed).
 *
 * @module
 */
import { actAsUser } from "../database/act_as.ts";
import type { Database, Queryable, TextResult } from "../database/mod.ts";
import { isUnavailable } from "../database/errors.ts";
import { checkQueryText } from "./sql_text.ts";
import { checkPlan } from "./sql_plan.ts";
import { SqlQueryError } from "./sql_error.ts";

export { SqlQueryError };

/** The SQL page's limits. */
export interface SqlLimits {
  /** Most rows a query shows. @default {10000} */
  maxRows: number;
  /** Most rows a CSV download holds. @default {1000000} */
  csvMaxRows: number;
  /** Statement timeout on PostgreSQL, in milliseconds. @default {15000} */
  statementTimeoutMs: number;
  /**
   * Embedded mode: the most a query's plan may cost (PostgreSQL's planner units); above it
   * the query is refused before it runs. @default {20000}
   */
  embeddedMaxCost: number;
}

/** The defaults of {@linkcode SqlLimits}. */
export const DEFAULT_SQL_LIMITS: SqlLimits = {
  maxRows: 10_000,
  csvMaxRows: 1_000_000,
  statementTimeoutMs: 15_000,
  embeddedMaxCost: 20_000,
};

/** One column of a result. */
export interface SqlColumn {
  /** Its name. */
  name: string;
  /** Its type's oid. */
  typeId: number;
  /** `number`, `date` (dates and timestamps), `boolean` or `text` (everything else). */
  kind: "number" | "date" | "boolean" | "text";
}

/** A query's result. */
export interface SqlResult {
  /** The columns. */
  columns: SqlColumn[];
  /** The rows, values as PostgreSQL prints them, null for NULL. */
  rows: (string | null)[][];
  /** Whether there were more rows than returned. */
  truncated: boolean;
  /** How long it took, in milliseconds. */
  elapsedMs: number;
}

const NUMBER_TYPES = new Set([20, 21, 23, 26, 700, 701, 790, 1700]);
const DATE_TYPES = new Set([1082, 1114, 1184]);

function kindOf(typeId: number): SqlColumn["kind"] {
  if (NUMBER_TYPES.has(typeId)) return "number";
  if (DATE_TYPES.has(typeId)) return "date";
  return typeId === 16 ? "boolean" : "text";
}

const CURSOR = "beacon_sql_page";
const DECLARE = `declare ${CURSOR} no scroll cursor for `;
const EXPLAIN = "explain (verbose, format json) ";

/** PostgreSQL's error (from either driver) as a SqlQueryError, positions in the typed text. */
function fromPostgres(error: unknown, offset: number): SqlQueryError {
  const e = error as Record<string, unknown>;
  const position = Number(e.position);
  return new SqlQueryError("query_failed", String(e.message ?? error), {
    sqlstate: typeof e.code === "string" ? e.code : undefined,
    detail: typeof e.detail === "string" ? e.detail : undefined,
    hint: typeof e.hint === "string" ? e.hint : undefined,
    position: Number.isFinite(position) && position > offset ? position - offset : undefined,
  });
}

/** Runs one step whose SQL has `prefix` before the user's text; PostgreSQL's errors mapped. */
async function step<T>(prefix: string, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof SqlQueryError || isUnavailable(error)) throw error;
    throw fromPostgres(error, prefix.length);
  }
}

/** Options for {@linkcode runSqlQuery}. */
export interface RunSqlOptions {
  /** The limits. */
  limits: SqlLimits;
  /** Most rows to return (the page's cap, or the CSV's). @default {limits.maxRows} */
  maxRows?: number;
}

/**
 * Runs an analyst's query as the signed-in user, with every guard of the SQL page.
 *
 * @param db The database.
 * @param claims The signed-in user's verified claims.
 * @param sql The query as typed.
 * @param options The limits.
 * @returns The columns and rows (at most `maxRows`).
 * @throws {SqlQueryError} When Beacon refuses the query or PostgreSQL fails it.
 */
export async function runSqlQuery(
  db: Database,
  claims: { sub: string } & Record<string, unknown>,
  sql: string,
  options: RunSqlOptions,
): Promise<SqlResult> {
  const checked = checkQueryText(sql);
  if ("code" in checked) {
    throw new SqlQueryError(checked.code, checked.message, { position: checked.position });
  }
  const statement = checked.statement;
  const maxRows = options.maxRows ?? options.limits.maxRows;
  const started = performance.now();
  return await actAsUser(db, claims, async (tx: Queryable) => {
    await tx.query("set transaction read only");
    const [who] = await tx.query<{ role: string; claims: string }>(
      "select current_user::text as role, current_setting('request.jwt.claims', true) as claims",
    );
    const [plan] = await step(
      EXPLAIN,
      () => tx.query<Record<string, unknown>>(EXPLAIN + statement),
    );
    checkPlan(Object.values(plan)[0], {
      maxCost: db.kind === "pglite" ? options.limits.embeddedMaxCost : undefined,
    });
    await step(DECLARE, () => tx.query(DECLARE + statement));
    const rows: (string | null)[][] = [];
    let fields: TextResult["fields"] = [];
    while (rows.length <= maxRows) {
      const want = Math.min(10_000, maxRows + 1 - rows.length);
      const got = await step("", () => tx.queryText(`fetch forward ${want} from ${CURSOR}`));
      fields = got.fields;
      rows.push(...got.rows);
      if (got.rows.length < want) break;
    }
    const [after] = await tx.query<{ role: string; claims: string }>(
      "select current_user::text as role, current_setting('request.jwt.claims', true) as claims",
    );
    if (after.role !== who.role || after.claims !== who.claims) {
      throw new SqlQueryError(
        "identity_changed",
        "the query changed who it runs as (role or claims): its result is discarded",
      );
    }
    return {
      columns: fields.map((f) => ({ name: f.name, typeId: f.typeId, kind: kindOf(f.typeId) })),
      rows: rows.slice(0, maxRows),
      truncated: rows.length > maxRows,
      elapsedMs: Math.round(performance.now() - started),
    };
  }, { statementTimeoutMs: options.limits.statementTimeoutMs });
}
