-- Trends: who may read analytics.trend, who may write analytics.tracked_properties, and
-- who may read the rollup.
begin;
select plan(22);
select tests.share_pgtap_tables();

select set_config('test.ann', tests.create_user('ann@trends.test')::text, true);
select set_config('test.sam', tests.create_user('sam@trends.test', true)::text, true);

insert into public.events (event_type, user_id, anonymous_id, payload, "timestamp")
-- Early today (not "a minute ago": just after midnight that is yesterday).
values ('task_started', current_setting('test.ann')::uuid, null, '{"plan": "pro", "duration_ms": 100}', current_date + interval '2 minutes'),
       ('task_completed', current_setting('test.ann')::uuid, null, '{"plan": "pro", "duration_ms": "300"}', current_date + interval '2 minutes'),
       ('task_started', null, 'device-t', '{"plan": "free"}', current_date + interval '1 minute');

select set_config('test.def', '{"series": [{"event": "task_started"}, {"event": "task_completed", "math": "sum", "property": "duration_ms"}], "formula": "B / A", "from": "' || current_date || '", "to": "' || current_date || '"}', true);

-- ----------------------------------------------------------------- hygiene
select is(
  (select count(*) from pg_proc p
    where p.oid in ('analytics.trend(jsonb)'::regprocedure, 'private.trend_series_sql(jsonb,integer,text)'::regprocedure,
                    'private.trend_formula_sql(text,integer,text)'::regprocedure)
      and not p.prosecdef and p.proconfig @> array['search_path=""']),
  3::bigint, 'the trend functions run as the caller with an empty search_path');
select ok(not has_function_privilege('public', 'analytics.trend(jsonb)', 'execute'), 'PUBLIC cannot execute analytics.trend');
select ok(tests.rls_enabled('analytics'), 'row-level security is on for every table in analytics, the new ones too');

-- ----------------------------------------------------------------- reading trends
select tests.authenticate_as(current_setting('test.sam')::uuid);
select results_eq(
  $$select series, value from analytics.trend(current_setting('test.def')::jsonb) order by series$$,
  $$values ('A'::text, 2::numeric), ('B', 300), ('formula', 150)$$,
  'a superuser reads a trend: counts, a sum over a number stored as a string, the formula');
select tests.act_as('analyst');
select is(
  (select value from analytics.trend(current_setting('test.def')::jsonb) where series = 'A'),
  2::numeric, 'an analyst reads trends');
select tests.act_as('service_role');
select is(
  (select value from analytics.trend(current_setting('test.def')::jsonb) where series = 'A'),
  2::numeric, 'the service role reads trends');
select tests.authenticate_as(current_setting('test.ann')::uuid);
select is(
  (select sum(value) from analytics.trend(current_setting('test.def')::jsonb) where series <> 'formula'),
  0::numeric, 'a signed-in user who is not a superuser reads zeros, not even their own events');
select tests.act_as('anon');
select throws_ok(
  $$select * from analytics.trend(current_setting('test.def')::jsonb)$$,
  '42501', null, 'an anonymous visitor cannot read trends');
select tests.clear_authentication();

-- ----------------------------------------------------------------- tracked properties
select tests.authenticate_as(current_setting('test.sam')::uuid);
select lives_ok(
  $$insert into analytics.tracked_properties (event_type, property) values ('task_started', 'plan')$$,
  'a superuser adds a tracked property');
select is((select count(*) from analytics.tracked_properties), 1::bigint, 'a superuser reads tracked properties');
select tests.act_as('service_role');
select lives_ok(
  $$insert into analytics.tracked_properties (event_type, property) values ('task_completed', 'plan')$$,
  'the service role adds a tracked property');
select lives_ok(
  $$delete from analytics.tracked_properties where event_type = 'task_completed'$$,
  'the service role removes a tracked property');
select tests.act_as('analyst');
select is((select count(*) from analytics.tracked_properties), 1::bigint, 'an analyst reads tracked properties');
select throws_ok(
  $$insert into analytics.tracked_properties (event_type, property) values ('x', 'y')$$,
  '42501', null, 'an analyst cannot add a tracked property');
select tests.authenticate_as(current_setting('test.ann')::uuid);
select throws_ok(
  $$insert into analytics.tracked_properties (event_type, property) values ('x', 'y')$$,
  '42501', null, 'a signed-in user who is not a superuser cannot add a tracked property');
select is((select count(*) from analytics.tracked_properties), 0::bigint,
  'nor see the tracked properties');
delete from analytics.tracked_properties;
select tests.clear_authentication();
select is((select count(*) from analytics.tracked_properties), 1::bigint,
  'nor remove one (the delete matched nothing)');
select tests.act_as('anon');
select throws_ok(
  $$insert into analytics.tracked_properties (event_type, property) values ('x', 'y')$$,
  '42501', null, 'an anonymous visitor cannot add a tracked property');
select throws_ok($$select * from analytics.property_days$$, '42501', null,
  'an anonymous visitor cannot read the tracked properties'' rollup');
select tests.authenticate_as(current_setting('test.ann')::uuid);
select throws_ok($$update analytics.property_days set events = 0$$, '42501', null,
  'a signed-in user cannot change the rollup');
select tests.clear_authentication();

-- ----------------------------------------------------------------- refusals
select throws_ok(
  $$select * from analytics.trend('{"series": [{"event": "a"}, {"event": "b", "math": "max"}]}')$$,
  '22023', 'analytics.trend: series[2].math must be one of total, unique, sum, avg, median, p90',
  'a bad math is refused, naming series[2].math');
select throws_ok(
  $$select * from analytics.trend('{"series": [{"event": "a"}], "formula": "A * (1"}')$$,
  '22023', 'analytics.trend: formula has a ( without its )',
  'an unbalanced formula is refused, naming formula');

select * from finish();
rollback;
