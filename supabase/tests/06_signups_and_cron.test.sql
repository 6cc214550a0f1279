-- Signups become profiles and events; the nightly job is scheduled under pg_cron.
begin;
select plan(10);

select set_config('test.dana', tests.create_user('dana@signup.test')::text, true);
select is((select count(*) from public.profiles where id = current_setting('test.dana')::uuid), 1::bigint,
  'a new auth user gets a profile');
select is((select is_superuser from public.profiles where id = current_setting('test.dana')::uuid), false,
  'a new profile is not a superuser');
select is((select count(*) from public.events where user_id = current_setting('test.dana')::uuid and event_type = 'user_signup'), 1::bigint,
  'a new auth user records one user_signup event');
select is((select payload ->> 'provider' from public.events where user_id = current_setting('test.dana')::uuid), 'email',
  'the signup event says how the user registered');

select is(
  (select schedule || ' | ' || command from cron.job where jobname = 'daily_analytics_aggregation')::text collate "default",
  '0 2 * * * | select analytics.run_daily_aggregation()',
  'pg_cron runs the nightly aggregation at 02:00 UTC');
select is(
  (select schedule from cron.job where jobname = 'purge_cron_job_run_details')::text collate "default",
  '30 3 * * *',
  'pg_cron purges its run history daily');
select ok((select command from cron.job where jobname = 'purge_cron_job_run_details') like '%job_run_details%14 days%',
  'the purge keeps 14 days of run history');
select lives_ok((select command from cron.job where jobname = 'daily_analytics_aggregation'),
  'the nightly job''s command runs by hand');
select lives_ok(
  (select statements[1] from supabase_migrations.schema_migrations where name = 'nightly_job'),
  'the scheduling migration can run again');
select is((select count(*) from cron.job where jobname in ('daily_analytics_aggregation', 'purge_cron_job_run_details')), 2::bigint,
  'running it again leaves one job of each name');

select * from finish();
rollback;
