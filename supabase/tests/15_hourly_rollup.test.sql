-- The hourly rollup: who may read its tables (superusers and analysts), that nobody writes
-- them but its functions, that no API role may close an hour, and its pg_cron schedule.
begin;
select plan(27);
select tests.share_pgtap_tables();

select set_config('test.alice', tests.create_user('alice@hourly.test')::text, true);
select set_config('test.sam', tests.create_user('sam@hourly.test', true)::text, true);
select set_config('test.hour', date_trunc('hour', now() - interval '2 hours', 'UTC')::text, true);
insert into public.events (event_type, user_id, "timestamp")
values ('page_view', current_setting('test.alice')::uuid, current_setting('test.hour')::timestamptz + interval '10 minutes'),
       ('task_started', current_setting('test.alice')::uuid, current_setting('test.hour')::timestamptz + interval '20 minutes');
select private.close_hour(current_setting('test.hour')::timestamptz);
select lives_ok($$select analytics.run_hourly_rollup()$$, 'the hourly entry point runs');

-- Rows per table, as the tables' owner sees them.
create temporary table hourly_counts on commit drop as
select 'closed_hours' as t, (select count(*) from analytics.closed_hours) as n
union all select 'hourly_events', (select count(*) from analytics.hourly_events)
union all select 'hourly_user_activity', (select count(*) from analytics.hourly_user_activity)
union all select 'hourly_day_users', (select count(*) from analytics.hourly_day_users)
union all select 'hourly_day_totals', (select count(*) from analytics.hourly_day_totals)
union all select 'hourly_runs', (select count(*) from analytics.hourly_runs);
grant select on hourly_counts to public;
select is((select count(*) from hourly_counts where n > 0), 6::bigint, 'every hourly table holds rows to test against');

create function pg_temp.counts() returns bigint[] language sql as $$
  select array[(select count(*) from analytics.closed_hours), (select count(*) from analytics.hourly_events),
               (select count(*) from analytics.hourly_user_activity), (select count(*) from analytics.hourly_day_users),
               (select count(*) from analytics.hourly_day_totals), (select count(*) from analytics.hourly_runs)]
$$;
grant execute on function pg_temp.counts() to public;
select set_config('test.all', (select pg_temp.counts())::text, true);

-- ----------------------------------------------------------------------------- hygiene
select ok(tests.rls_enabled('analytics'), 'row level security is on for every analytics table, the hourly ones too');
select ok((select p.prosecdef from pg_proc p where p.oid = 'private.close_hour(timestamptz)'::regprocedure),
  'close_hour writes as the rollup''s owner (security definer)');
select is((select p.proconfig from pg_proc p where p.oid = 'private.open_day_metrics(date,text)'::regprocedure),
  array['search_path=""', 'jit=off', 'max_parallel_workers_per_gather=0'],
  'the read helper has an empty search_path (and no jit, no parallel workers)');
select ok(not (select p.prosecdef from pg_proc p where p.oid = 'private.open_day_metrics(date,text)'::regprocedure),
  'and runs as the caller, so row-level security decides what it counts');

-- ----------------------------------------------------------------------------- who may close hours
select ok(not has_function_privilege(r, 'private.close_hour(timestamptz)', 'execute'),
  format('%s cannot execute private.close_hour', r))
  from unnest(array['anon', 'authenticated', 'service_role', 'analyst']) as r;
select ok(has_function_privilege('service_role', 'analytics.run_hourly_rollup()', 'execute')
          and not has_function_privilege('authenticated', 'analytics.run_hourly_rollup()', 'execute')
          and not has_function_privilege('anon', 'analytics.run_hourly_rollup()', 'execute'),
  'only the service role runs the hourly entry point');

-- ----------------------------------------------------------------------------- anon
select tests.act_as('anon');
select throws_ok(format('select count(*) from analytics.%I', t), '42501', null,
  format('an anonymous visitor cannot read analytics.%s', t))
  from (select t from hourly_counts order by t) as x;
select throws_ok($$select private.close_hour(date_trunc('hour', now() - interval '2 hours', 'UTC'))$$, '42501', null,
  'an anonymous visitor cannot close an hour');

-- ----------------------------------------------------------------------------- an ordinary user
select tests.authenticate_as(current_setting('test.alice')::uuid);
select is(pg_temp.counts(), array[0, 0, 0, 0, 0, 0]::bigint[], 'a signed-in user who is not a superuser reads no hourly rows');
select throws_ok($$insert into analytics.hourly_events (hour, event_type, events) values (now(), 'x', 1)$$, '42501', null,
  'a signed-in user cannot write the hourly rollup');

-- ----------------------------------------------------------------------------- a superuser
select tests.authenticate_as(current_setting('test.sam')::uuid);
select is(pg_temp.counts()::text, current_setting('test.all'), 'a superuser reads every hourly row');
select throws_ok($$delete from analytics.closed_hours$$, '42501', null, 'a superuser cannot delete closed hours');
select throws_ok($$select private.close_hour(date_trunc('hour', now() - interval '2 hours', 'UTC'))$$, '42501', null,
  'a superuser cannot close an hour');
select throws_ok($$select analytics.run_hourly_rollup()$$, '42501', null, 'nor run the hourly job');

-- ----------------------------------------------------------------------------- an analyst
select tests.act_as('analyst');
select is(pg_temp.counts()::text, current_setting('test.all'), 'an analyst reads every hourly row');
select throws_ok($$update analytics.hourly_day_totals set active_users = 0$$, '42501', null,
  'an analyst cannot change the hourly rollup');
select tests.clear_authentication();

-- ----------------------------------------------------------------------------- pg_cron
select is(
  (select schedule || ' | ' || command from cron.job where jobname = 'hourly_analytics_rollup')::text collate "default",
  '5 * * * * | select analytics.run_hourly_rollup()',
  'pg_cron runs the hourly rollup at five past every hour');

select * from finish();
rollback;
