/**
 * `GET /api/v1/health`: is the database reachable, which migration it is at, when the
 * nightly job last ran, and how far behind each plugin is.
 *
 * @module
 */
import { Hono } from "hono";
import type { AppEnv } from "../_deps.ts";

/** How long health waits for the database before answering 503, in milliseconds. */
export const HEALTH_DEADLINE_MS = 2000;

/** Resolves as `work` does, or rejects once `ms` have passed (the work is left to finish). */
async function within<T>(ms: number, work: () => Promise<T>): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      work(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`the database did not answer within ${ms} ms`)),
          ms,
        );
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

const health = new Hono<AppEnv>();

health.get("/", async (c) => {
  const { db, forwarder, config } = c.var.deps;
  try {
    const { row, plugins } = await within(HEALTH_DEADLINE_MS, async () => {
      const [row] = await db.query<{
        version: string | null;
        started_at: string | null;
        finished_at: string | null;
        through_day: string | null;
        days_aggregated: number | null;
      }>(
        `select (select max(version) from supabase_migrations.schema_migrations) as version,
              r.started_at::text as started_at, r.finished_at::text as finished_at,
              r.through_day::text as through_day, r.days_aggregated
         from (select 1) as one
         left join lateral (
           select * from analytics.aggregation_runs order by id desc limit 1
         ) as r on true`,
      );
      return { row, plugins: forwarder ? await forwarder.status() : [] };
    });
    const failing = plugins.some((p) => p.failures > 0);
    return c.json({
      status: failing ? "degraded" : "ok",
      database: { reachable: true, kind: config.database.kind },
      migrations: { version: row.version },
      nightly: row.finished_at
        ? {
          last_run_started_at: row.started_at,
          last_run_finished_at: row.finished_at,
          through_day: row.through_day,
          days_aggregated: row.days_aggregated,
        }
        : null,
      plugins: plugins.map((p) => ({
        name: p.name,
        lag: p.lag,
        delivered: p.delivered,
        failures: p.failures,
        last_error: p.lastError,
        last_error_at: p.lastErrorAt,
        last_delivered_at: p.lastDeliveredAt,
        dead_lettered: p.deadLettered,
      })),
    });
  } catch (error) {
    c.var.deps.log.error("health check failed", {
      error,
      request_id: c.var.requestId,
    });
    return c.json(
      {
        error: "unavailable",
        status: "down",
        database: { reachable: false, kind: config.database.kind },
        message: "the database cannot be reached",
      },
      503,
      { "retry-after": "2" },
    );
  }
});

export default health;
