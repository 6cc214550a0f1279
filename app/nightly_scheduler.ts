/**
 * Beacon's own nightly job, for databases without pg_cron (the embedded one): runs
 * `analytics.run_daily_aggregation()` at start and every day at 02:00 UTC, and (unless
 * turned off) `analytics.run_hourly_rollup()` at five past every hour and
 * `analytics.refresh_live_parts()` (the snapshot of today's hours not rolled up) every minute,
 * as pg_cron does; after each nightly or hourly run, `beacon.refresh_revenue_report()`
 * (pg_cron runs it at a quarter past).
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

/** Milliseconds from `now` to the next hourly run, at five past the hour (UTC). */
export function msUntilNextHourlyRun(now: Date): number {
  const next = new Date(now.getTime());
  next.setUTCMinutes(5, 0, 0);
  if (next.getTime() <= now.getTime()) next.setUTCHours(next.getUTCHours() + 1);
  return next.getTime() - now.getTime();
}

/** Milliseconds from `now` to the start of the next minute (the live part's snapshot). */
export function msUntilNextMinute(now: Date): number {
  return 60_000 - (now.getTime() % 60_000);
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
  /** Runs the hourly rollup now. Resolves with the number of hours rolled up. */
  runHourlyNow(): Promise<number>;
  /** Takes the live part's snapshot now. Resolves with the number of days taken. */
  refreshLivePartsNow(): Promise<number>;
  /** Stops scheduling (a run in progress finishes). */
  stop(): Promise<void>;
}

/** Options for {@linkcode startNightlyScheduler}. */
export interface NightlySchedulerOptions {
  /**
   * Also roll up every ended hour at five past the hour (not at start: hours not rolled up
   * are read live, and the next run catches up every hour since the start of yesterday),
   * and take the snapshot of the hours not rolled up every minute (and after each hourly
   * run).
   * @default {true}
   */
  hourly?: boolean;
  /**
   * Run the nightly aggregation at start too. Off right after the demo data was loaded: the
   * seed closed every past day itself, in the same transaction as its events, which the job
   * would take for late events and close again (seconds in which nothing else reaches an
   * embedded database). The daily run at 02:00 UTC goes on as usual.
   * @default {true}
   */
  runAtStart?: boolean;
}

/**
 * Runs the nightly aggregation now and then every day at 02:00 UTC, and the hourly rollup
 * at five past every hour.
 *
 * @param db The database.
 * @param log The logger.
 * @param options Whether to run the hourly rollup.
 * @returns The scheduler.
 */
export function startNightlyScheduler(
  db: Database,
  log: Logger,
  options: NightlySchedulerOptions = {},
): NightlyScheduler {
  let timer: ReturnType<typeof setTimeout> | undefined;
  let hourlyTimer: ReturnType<typeof setTimeout> | undefined;
  let minuteTimer: ReturnType<typeof setTimeout> | undefined;
  let running: Promise<number> | undefined;
  let runningHourly: Promise<number> | undefined;
  let runningLive: Promise<number> | undefined;
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
        await refreshRevenueReport();
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
  // The revenue reports' kept days, recomputed when subscriptions or rates changed.
  const refreshRevenueReport = async () => {
    const [{ done }] = await db.query<{ done: unknown }>(
      "select beacon.refresh_revenue_report() as done",
    );
    log.info("revenue report refresh done", { result: done });
  };
  const runHourlyNow = () => {
    runningHourly ??= (async () => {
      const started = performance.now();
      try {
        const [{ hours }] = await db.query<{ hours: number }>(
          "select analytics.run_hourly_rollup() as hours",
        );
        log.info("hourly rollup done", {
          hours_rolled_up: hours,
          duration_ms: Math.round(performance.now() - started),
        });
        await refreshRevenueReport();
        // Closing hours dropped the snapshots of their days: taken again at once.
        await refreshLivePartsNow().catch(() => {});
        return hours;
      } catch (error) {
        log.error("hourly rollup failed", { error });
        throw error;
      } finally {
        runningHourly = undefined;
      }
    })();
    return runningHourly;
  };
  const refreshLivePartsNow = () => {
    runningLive ??= (async () => {
      try {
        const [{ days }] = await db.query<{ days: number }>(
          "select analytics.refresh_live_parts() as days",
        );
        return days;
      } catch (error) {
        log.error("live part snapshot failed", { error });
        throw error;
      } finally {
        runningLive = undefined;
      }
    })();
    return runningLive;
  };
  const scheduleMinutely = () => {
    if (stopped || options.hourly === false) return;
    minuteTimer = setTimeout(() => {
      refreshLivePartsNow().catch(() => {}).finally(scheduleMinutely);
    }, msUntilNextMinute(new Date()));
  };
  const scheduleHourly = () => {
    if (stopped || options.hourly === false) return;
    hourlyTimer = setTimeout(() => {
      runHourlyNow().catch(() => {}).finally(scheduleHourly);
    }, msUntilNextHourlyRun(new Date()));
  };
  const schedule = () => {
    if (stopped) return;
    timer = setTimeout(() => {
      runNow().catch(() => {}).finally(schedule);
    }, msUntilNextRun(new Date()));
  };
  if (options.runAtStart === false) schedule();
  else runNow().catch(() => {}).finally(schedule);
  scheduleHourly();
  scheduleMinutely();
  return {
    runNow,
    runHourlyNow,
    refreshLivePartsNow,
    async stop() {
      stopped = true;
      clearTimeout(timer);
      clearTimeout(hourlyTimer);
      clearTimeout(minuteTimer);
      await running?.catch(() => {});
      await runningHourly?.catch(() => {});
      await runningLive?.catch(() => {});
    },
  };
}
