/**
 * Beacon's own nightly job, for databases without pg_cron (the embedded one): runs
 * `analytics.run_daily_aggregation()` at start and every day at 02:00 UTC.
 *
 * @module
 */
import type { Database } from "../database/mod.ts";
import type { Logger } from "../log/mod.ts";

/** Milliseconds from `now` to the next 02:00 UTC. */
export function msUntilNextRun(now: Date): number {
  const next = new Date(
    Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate(), 2),
  );
  if (next.getTime() <= now.getTime()) next.setUTCDate(next.getUTCDate() + 1);
  return next.getTime() - now.getTime();
}

/** Whether pg_cron has the nightly job scheduled in this database. */
export async function pgCronSchedulesNightly(db: Database): Promise<boolean> {
  try {
    const [row] = await db.query<{ scheduled: boolean }>(
      `select exists (select 1 from cron.job where jobname = 'daily_analytics_aggregation') as scheduled`,
    );
    return row.scheduled;
  } catch {
    return false;
  }
}

/** The running scheduler. */
export interface NightlyScheduler {
  /** Runs the aggregation now. Resolves with the number of days aggregated. */
  runNow(): Promise<number>;
  /** Stops scheduling (a run in progress finishes). */
  stop(): Promise<void>;
}

/**
 * Runs the nightly aggregation now and then every day at 02:00 UTC.
 *
 * @param db The database.
 * @param log The logger.
 * @returns The scheduler.
 */
export function startNightlyScheduler(
  db: Database,
  log: Logger,
): NightlyScheduler {
  let timer: ReturnType<typeof setTimeout> | undefined;
  let running: Promise<number> | undefined;
  let stopped = false;
  const runNow = () => {
    running ??= (async () => {
      const started = performance.now();
      try {
        const [{ days }] = await db.query<{ days: number }>(
          "select analytics.run_daily_aggregation() as days",
        );
        log.info("nightly aggregation done", {
          days_aggregated: days,
          duration_ms: Math.round(performance.now() - started),
        });
        // Partitions ahead, raw retention, idempotency ids (after the days are closed).
        const [{ done }] = await db.query<{ done: unknown }>(
          "select beacon.maintain_raw_events() as done",
        );
        log.info("raw event maintenance done", { result: done });
        return days;
      } catch (error) {
        log.error("nightly aggregation failed", { error });
        throw error;
      } finally {
        running = undefined;
      }
    })();
    return running;
  };
  const schedule = () => {
    if (stopped) return;
    timer = setTimeout(() => {
      runNow().catch(() => {}).finally(schedule);
    }, msUntilNextRun(new Date()));
  };
  runNow().catch(() => {}).finally(schedule);
  return {
    runNow,
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running?.catch(() => {});
    },
  };
}
