/**
 * The SQL page's look at a query's plan (`explain (verbose, format json)`, as the user, before
 * it runs): functions that would change the session, take locks that outlive the query,
 * run SQL held in a string, sleep or reach the server's files are refused wherever they
 * appear (verbose plans name every function called, constant expressions already folded).
 * In embedded mode, where a running statement cannot be cancelled, a plan above the cost
 * limit and a recursive query (whose estimate says nothing of how long it loops) are refused
 * too.
 *
 * @module
 */
import { SqlQueryError } from "./sql_error.ts";

/**
 * Functions a query on the SQL page may not call: they change settings (the claims, the
 * role, the timeout), hold advisory locks past the query, run SQL given as text (which the
 * plan cannot show), sleep, notify, or read the server's files and large objects.
 */
export const REFUSED_FUNCTIONS =
  /\b(set_config|pg_sleep(?:_for|_until)?|pg_(?:try_)?advisory_\w+|query_to_xml\w*|query_to_xmlschema|cursor_to_xml\w*|table_to_xml\w*|schema_to_xml\w*|database_to_xml\w*|ts_stat|ts_rewrite|dblink\w*|pg_notify|lo_\w+|pg_read_\w+|pg_ls_\w+|pg_stat_file|pg_reload_conf|pg_terminate_backend|pg_cancel_backend|pg_logical_emit_message)\s*\(/i;

/** Options for {@linkcode checkPlan}. */
export interface PlanCheckOptions {
  /** The most the plan may cost (embedded mode); no limit when undefined. */
  maxCost?: number;
}

function hasNode(node: unknown, type: string): boolean {
  if (!node || typeof node !== "object") return false;
  const n = node as Record<string, unknown>;
  if (n["Node Type"] === type) return true;
  const plans = n["Plans"];
  return Array.isArray(plans) && plans.some((p) => hasNode(p, type));
}

/**
 * Refuses a plan that calls a refused function or, with a cost limit, costs too much or
 * recurses.
 *
 * @param explained What `explain (verbose, format json)` returned (its one value).
 * @param options The cost limit.
 * @throws {SqlQueryError} `refused_function`, `too_costly` or `recursive_query`.
 */
export function checkPlan(explained: unknown, options: PlanCheckOptions = {}): void {
  const json = typeof explained === "string" ? explained : JSON.stringify(explained);
  const parsed = typeof explained === "string" ? JSON.parse(explained) : explained;
  const plan = (Array.isArray(parsed) ? parsed[0] : parsed)?.Plan;
  const refused = json.match(REFUSED_FUNCTIONS);
  if (refused) {
    throw new SqlQueryError(
      "refused_function",
      `${refused[1]}() cannot be called from the SQL page`,
      {
        hint:
          "Queries here only read: they cannot change settings or the role, take locks, sleep, or run SQL held in a string.",
      },
    );
  }
  if (options.maxCost === undefined || !plan) return;
  const cost = Number(plan["Total Cost"]);
  if (cost > options.maxCost) {
    throw new SqlQueryError(
      "too_costly",
      `the query's estimated cost (${
        Math.round(cost)
      }) is above the embedded database's limit (${options.maxCost})`,
      {
        hint:
          "The embedded database cannot stop a running query. Narrow it: a shorter date range, a rollup (analytics.daily_metrics, the views) instead of raw events, or a LIMIT.",
      },
    );
  }
  if (hasNode(plan, "Recursive Union")) {
    throw new SqlQueryError(
      "recursive_query",
      "recursive queries (WITH RECURSIVE) do not run on the embedded database",
      { hint: "Their cost cannot be estimated, and the embedded database cannot stop them." },
    );
  }
}
