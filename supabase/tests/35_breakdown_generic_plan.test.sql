-- analytics.breakdown runs with generic plans (migration 20261127220000): the setting is on
-- the function, and its answers with one plan reused across ranges (closed days only, a day
-- not closed only, both) are the events' own counts.
begin;
select plan(5);
select tests.share_pgtap_tables();
-- pg_cron runs the jobs in this database: their locks for the whole test.
select pg_advisory_xact_lock(hashtext('beacon.refresh_live_parts'));
select pg_advisory_xact_lock(hashtext('beacon.run_hourly_rollup'));
select pg_advisory_xact_lock(hashtext('beacon.run_daily_aggregation'));

select ok((select 'plan_cache_mode=force_generic_plan' = any (p.proconfig)
                  and 'search_path=""' = any (p.proconfig)
             from pg_proc p where p.oid = 'analytics.breakdown(date,date,integer)'::regprocedure),
          'analytics.breakdown plans its statements once (generic plans), its search path empty');

select set_config('test.today', ((now() at time zone 'UTC')::date)::text, true);
select set_config('test.u', tests.create_user('una@breakdown-plan.test')::text, true);
delete from public.events;
truncate analytics.daily_metrics, analytics.user_activity, analytics.aggregated_days, analytics.aggregation_runs;
insert into public.events (event_type, user_id, anonymous_id, "timestamp")
select t, case when g % 3 = 0 then current_setting('test.u')::uuid end, 'v' || g,
       (current_setting('test.today')::date - d)::timestamp at time zone 'UTC' + g * interval '7 minutes'
  from unnest(array[1, 2, 3, 5]) as d,
       unnest(array['page_view', 'page_view', 'click', 'task_done', 'page_view']) with ordinality as x (t, g)
 where g <= 3 + d % 3;
select analytics.run_daily_aggregation();
-- Yesterday not closed: read from the events, as at 20:00 before the nightly job.
delete from analytics.aggregated_days where day = current_setting('test.today')::date - 1;

create function pg_temp.expected(lo date, hi date) returns table (event_type text, events numeric)
language sql as $$
  select e.event_type, count(*)::numeric from public.events e
   where e."timestamp" >= lo::timestamp at time zone 'UTC' and e."timestamp" < (hi + 1)::timestamp at time zone 'UTC'
   group by 1 order by 2 desc, 1
$$;
select results_eq(
  $$select event_type, events from analytics.breakdown(current_setting('test.today')::date - 6, current_setting('test.today')::date)$$,
  $$select * from pg_temp.expected(current_setting('test.today')::date - 6, current_setting('test.today')::date)$$,
  'a range of closed days and a day not closed: the events'' counts');
select results_eq(
  $$select event_type, events from analytics.breakdown(current_setting('test.today')::date - 1, current_setting('test.today')::date - 1)$$,
  $$select * from pg_temp.expected(current_setting('test.today')::date - 1, current_setting('test.today')::date - 1)$$,
  'the day not closed alone, with the same plan');
select results_eq(
  $$select event_type, events from analytics.breakdown(current_setting('test.today')::date - 5, current_setting('test.today')::date - 2)$$,
  $$select * from pg_temp.expected(current_setting('test.today')::date - 5, current_setting('test.today')::date - 2)$$,
  'closed days alone, with the same plan');
select is((select count(*) from pg_temp.expected(current_setting('test.today')::date - 6, current_setting('test.today')::date)),
          3::bigint, 'the data has three event types (the comparisons are not of empty sets)');

select * from finish();
rollback;
