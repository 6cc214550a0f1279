-- =======================================================================================
-- The nightly job, under pg_cron where it exists
-- =======================================================================================
-- Scheduled by name, so running this again replaces the jobs instead of adding new ones.
-- Where pg_cron cannot be created (PGlite, a server without it in shared_preload_libraries)
-- nothing is scheduled and a notice says so; Beacon's server then runs the same entry point.

do $cron$
begin
  if not exists (select 1 from pg_extension where extname = 'pg_cron') then
    begin
      create extension if not exists pg_cron with schema pg_catalog;
    exception when others then
      raise notice 'pg_cron is not available here (%): daily_analytics_aggregation is not scheduled. Call select analytics.run_daily_aggregation() once a day after 00:00 UTC (Beacon''s server does this itself when it runs without pg_cron).', sqlerrm;
      return;
    end;
  end if;

  perform cron.schedule(
    'daily_analytics_aggregation',
    '0 2 * * *',
    'select analytics.run_daily_aggregation()'
  );
  perform cron.schedule(
    'purge_cron_job_run_details',
    '30 3 * * *',
    $job$delete from cron.job_run_details where end_time < now() - interval '14 days'$job$
  );
end
$cron$;
