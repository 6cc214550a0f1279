-- How the schema is built: RLS everywhere, safe security definer functions, no function
-- executable by PUBLIC, views that respect RLS.
begin;
select plan(11);

select ok(tests.rls_enabled('public'), 'row-level security is enabled on every table in public');
select ok(tests.rls_enabled('analytics'), 'row-level security is enabled on every table in analytics');
select ok(tests.rls_enabled('beacon'), 'row-level security is enabled on every table in beacon');
-- Signed-in users may use schema beacon only to read beacon.plugin_dead_letters (superusers,
-- by RLS; see 23_plugin_dead_letters): no other table, no function.
select ok(not has_schema_privilege('anon', 'beacon', 'usage')
          and not exists (select 1 from pg_class c
                           where c.relnamespace = 'beacon'::regnamespace and c.relname <> 'plugin_dead_letters'
                             and has_table_privilege('authenticated', c.oid, 'select, insert, update, delete'))
          and not exists (select 1 from pg_proc p where p.pronamespace = 'beacon'::regnamespace
                             and has_function_privilege('authenticated', p.oid, 'execute')),
  'API roles cannot reach Beacon''s server state');

select ok(
  (select prosecdef and proconfig @> array['search_path=""'] from pg_proc where oid = 'private.is_superuser()'::regprocedure),
  'the superuser check is security definer with an empty search_path');
select is(
  (select count(*) from pg_proc p
    where p.pronamespace in ('public'::regnamespace, 'analytics'::regnamespace, 'private'::regnamespace, 'beacon'::regnamespace)
      and p.prosecdef and not coalesce(p.proconfig @> array['search_path=""'], false)),
  0::bigint, 'every security definer function sets search_path to empty');
select is(
  (select count(*) from pg_proc p
    where p.pronamespace in ('public'::regnamespace, 'analytics'::regnamespace, 'private'::regnamespace, 'beacon'::regnamespace)
      and has_function_privilege('public', p.oid, 'execute')
      and p.proowner = (select oid from pg_roles where rolname = current_user)),
  0::bigint, 'no Beacon function is executable by PUBLIC');
select ok(not has_function_privilege('anon', 'analytics.timeseries(text, date, date, text, text)', 'execute'),
  'anon cannot execute analytics.timeseries');
select ok(has_function_privilege('analyst', 'analytics.timeseries(text, date, date, text, text)', 'execute'),
  'analysts can execute analytics.timeseries');
select is(
  (select count(*) from pg_class c
    where c.relnamespace = 'analytics'::regnamespace and c.relkind = 'v'
      and not coalesce(c.reloptions @> array['security_invoker=true'], false)),
  0::bigint, 'every analytics view is security_invoker');
select is(
  (select count(*) from pg_class c
    where c.relnamespace = 'analytics'::regnamespace and c.relkind = 'v'
      and obj_description(c.oid, 'pg_class') is null),
  0::bigint, 'every analytics view is documented');

select * from finish();
rollback;
