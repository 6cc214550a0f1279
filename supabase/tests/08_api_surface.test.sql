-- What the API can reach: schema `analytics` is exposed over Supabase's REST API, so
-- everything in it is public API. Only what is meant for callers stays there, documented;
-- the helpers live in `private`, which API roles cannot use directly.
begin;
select plan(16);
select tests.share_pgtap_tables();

-- ----------------------------------------------------------------- what analytics holds
select is(
  array(select p.proname::text from pg_proc p where p.pronamespace = 'analytics'::regnamespace
        except
        select unnest(array['aggregate_day', 'run_daily_aggregation', 'timeseries', 'summary',
                             'summary_as_of', 'breakdown', 'events_page',
                             'retention', 'lifecycle', 'stickiness', 'feature_adoption',
                             'funnel', 'funnel_dropoffs', 'named_funnels', 'extend_person_bits',
                             'mrr_movements', 'revenue_churn', 'trial_conversion', 'trend',
                             'run_hourly_rollup', 'refresh_live_parts', 'raw_events_kept_from', 'sql_schema'])
        order by 1),
  array[]::text[],
  'every function in analytics is one meant for callers (the allow-list)');
select is(
  array(select c.relname::text from pg_class c
         where c.relnamespace = 'analytics'::regnamespace and c.relkind in ('r', 'p', 'v', 'm', 'f')
        except
        select unnest(array['metric_definitions', 'daily_metrics', 'user_activity', 'bucket_active_users',
                             'aggregated_days', 'aggregation_runs', 'daily_overview', 'events_per_day',
                             'signups_per_day', 'active_users_per_day', 'subscriptions_per_day',
                             'weekly_retention', 'person_links', 'person_events',
                             'person_ids', 'person_day_bits', 'pending_person_links',
                             'person_bits_through', 'exchange_rates', 'revenue_settings',
                             'tracked_properties', 'property_days', 'property_actor_days',
                             'closed_hours', 'hourly_events', 'hourly_user_activity', 'person_properties',
                             'hourly_day_users', 'hourly_day_totals', 'hourly_runs', 'live_parts', 'live_part_events', 'live_part_users', 'saved_queries'])
        order by 1),
  array[]::text[],
  'every table and view in analytics is one meant for callers (the allow-list)');
select is(
  array(select p.oid::regprocedure::text from pg_proc p
         where p.pronamespace = 'analytics'::regnamespace and obj_description(p.oid, 'pg_proc') is null
         order by 1),
  array[]::text[],
  'every function in analytics is documented');
select is(
  array(select c.relname::text from pg_class c
         where c.relnamespace = 'analytics'::regnamespace and c.relkind in ('r', 'p', 'v', 'm', 'f')
           and obj_description(c.oid, 'pg_class') is null
         order by 1),
  array[]::text[],
  'every table and view in analytics is documented');

-- ----------------------------------------------------------------- the helpers
select is(
  array(select h from unnest(array['user_days(date,date)', 'window_active_users(date,date)',
                                   'active_user_ids(date,date)', 'paying_subscriptions(timestamptz)',
                                   'compute_day(date,text,boolean)', 'close_day(date)',
                                   'refresh_windows(date,date)', 'signups_not_rolled_up(date)']) as h
         where to_regprocedure('private.' || h) is null or to_regprocedure('analytics.' || h) is not null),
  array[]::text[],
  'the aggregation and read helpers live in private, not in analytics');
select ok(not has_schema_privilege('anon', 'private', 'usage'), 'anon cannot use schema private');
select is(
  array(select p.proname::text from pg_proc p
         where p.pronamespace = 'private'::regnamespace and p.proname <> 'is_superuser'
           and has_function_privilege('anon', p.oid, 'execute')
         order by 1),
  array[]::text[],
  'anon cannot execute any helper in private');
select is(
  array(select p.proname::text from pg_proc p
         where p.pronamespace = 'private'::regnamespace
           and has_function_privilege('authenticated', p.oid, 'execute')
         order by 1),
  array['check_report_range', 'check_revenue_range', 'compute_day', 'count_user_days', 'day_active_users', 'day_events',
        'day_paying_subscriptions', 'day_signups', 'day_subscription_changes',
        'day_window_active_users', 'funnel_attempts', 'funnel_step_sql', 'is_analyst', 'is_superuser',
        'open_day_metrics', 'open_day_value', 'open_day_value_from_parts', 'open_window_users', 'open_window_users_from_bits', 'page_bits', 'paid_from', 'paying_subscriptions', 'period_index',
        'person_bits', 'raw_retention_horizon', 'reporting_currency', 'revenue_days_for', 'revenue_engine', 'signups_not_rolled_up',
        'summary_numbers', 'trend_formula_sql', 'trend_number', 'trend_series_sql', 'user_days',
        'window_active_users', 'zero_page'],
  'signed-in users can execute only the helpers the read functions run as them');

select tests.act_as('anon');
select throws_ok($$select * from private.compute_day(current_date - 1)$$, '42501', null,
  'an anonymous visitor cannot call private.compute_day');
select throws_ok($$select * from private.user_days(current_date - 1, current_date)$$, '42501', null,
  'an anonymous visitor cannot call private.user_days');
select tests.clear_authentication();
select set_config('test.sam', tests.create_user('sam@surface.test', true)::text, true);
select tests.authenticate_as(current_setting('test.sam')::uuid);
select throws_ok($$select private.close_day(current_date - 1)$$, '42501', null,
  'a signed-in user, even a superuser, cannot call private.close_day');
select throws_ok($$select private.refresh_windows(current_date - 1, current_date - 1)$$, '42501', null,
  'a signed-in user, even a superuser, cannot call private.refresh_windows');
select throws_ok($$select * from private.active_user_ids(current_date - 1, current_date)$$, '42501', null,
  'a signed-in user cannot call private.active_user_ids');
select lives_ok($$select * from analytics.summary()$$,
  'the read functions still run as a signed-in user, helpers included');
select tests.clear_authentication();

-- ----------------------------------------------------------------- policies
select is(
  array(select format('%s.%s %s %s', p.schemaname, p.tablename, r.role, p.cmd)
          from pg_policies p cross join lateral unnest(p.roles) as r (role)
         where p.schemaname in ('public', 'analytics', 'private', 'beacon') and p.permissive = 'PERMISSIVE'
         group by p.schemaname, p.tablename, r.role, p.cmd
        having count(*) > 1
         order by 1),
  array[]::text[],
  'no table has two permissive policies for the same role and action');
select lives_ok($$select analytics.run_daily_aggregation()$$,
  'the nightly entry point pg_cron calls still runs with the helpers in private');

select * from finish();
rollback;
