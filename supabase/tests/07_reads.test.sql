-- The read functions: shapes, buckets, zero filling, live today, and clear errors.
begin;
select plan(16);

select set_config('test.erin', tests.create_user('erin@reads.test')::text, true);
-- Freeze the world the test sees: only this test's events count.
delete from public.events where user_id <> current_setting('test.erin')::uuid or user_id is null;
delete from public.events where event_type = 'user_signup';
truncate analytics.daily_metrics, analytics.user_activity, analytics.aggregated_days, analytics.aggregation_runs;

select set_config('test.today', ((now() at time zone 'UTC')::date)::text, true);
insert into public.events (event_type, user_id, "timestamp")
select 'page_view', current_setting('test.erin')::uuid,
       (current_setting('test.today')::date - d)::timestamp at time zone 'UTC' + interval '12 hours'
  from unnest(array[1, 1, 3, 10]) as d;
insert into public.events (event_type, anonymous_id, "timestamp")
values ('page_view', 'v1', current_setting('test.today')::date::timestamp at time zone 'UTC' + interval '1 minute'); -- today, whatever the hour

select is(analytics.run_daily_aggregation(), 10, 'the first run aggregates every day from the first event to yesterday');
select results_eq(
  $$select value from analytics.timeseries('events', current_setting('test.today')::date - 3, current_setting('test.today')::date)$$,
  $$values (1::numeric), (0), (2), (1)$$,
  'a daily series has a row per day, zeros where nothing happened, and today computed live');
select results_eq(
  $$select value from analytics.timeseries('active_users', current_setting('test.today')::date - 3, current_setting('test.today')::date)$$,
  $$values (1::numeric), (0), (1), (0)$$,
  'active users count signed-in users only');
select is(
  (select sum(value) from analytics.timeseries('events', current_setting('test.today')::date - 20, current_setting('test.today')::date, 'week')),
  5::numeric, 'weekly buckets add up to the days they hold');
select is(
  (select count(*) from analytics.timeseries('events', current_setting('test.today')::date - 20, current_setting('test.today')::date, 'month')),
  (select count(distinct date_trunc('month', current_setting('test.today')::date - g)) from generate_series(0, 20) g),
  'monthly buckets: one row per month in the range');
select is(
  (select value from analytics.timeseries('active_users', current_setting('test.today')::date - 6, current_setting('test.today')::date - 1, 'week') order by bucket_start desc limit 1),
  1::numeric, 'active users over a week are distinct users, not a sum of days');
select is(
  (select value from analytics.timeseries('weekly_active_users', current_setting('test.today')::date - 1, current_setting('test.today')::date - 1)),
  1::numeric, 'weekly active users on a closed day come from the rollup');
select results_eq(
  $$select event_type, events from analytics.breakdown(current_setting('test.today')::date - 30, current_setting('test.today')::date)$$,
  $$values ('page_view'::text, 5::numeric)$$,
  'the breakdown counts events per type over the range, today included');
select is((select dau from analytics.summary()), 1::bigint, 'the summary''s DAU is yesterday''s signed-in users');
select is((select mau from analytics.summary()), 1::bigint, 'the summary''s MAU covers the 30 days ending yesterday');

select throws_ok($$select * from analytics.timeseries('nope', current_date - 1, current_date)$$,
  '22023', 'analytics.timeseries: unknown metric "nope"', 'an unknown metric is refused by name');
select throws_ok($$select * from analytics.timeseries('events', current_date - 1, current_date, 'hour')$$,
  '22023', 'analytics.timeseries: unknown bucket "hour"', 'an unknown bucket is refused');
select throws_ok($$select * from analytics.timeseries('events', current_date, current_date - 1)$$,
  '22023', null, 'a range that ends before it starts is refused');
select throws_ok($$select * from analytics.timeseries('events', null, current_date)$$,
  '22004', null, 'a missing date is refused');
select throws_ok($$select analytics.aggregate_day((now() at time zone 'UTC')::date)$$,
  '22023', null, 'today cannot be aggregated: it is not over');
select is(analytics.run_daily_aggregation(), 4,
  'a second run redoes the last three days, and the older day whose events were not yet committed when the first run started');

select * from finish();
rollback;
