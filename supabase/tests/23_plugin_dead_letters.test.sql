-- Plugin dead letters (beacon.plugin_dead_letters): superusers read them, nobody but
-- Beacon's own role (the owner) writes them, and opening schema beacon to signed-in users
-- for this one table exposes nothing else in it.
begin;
select plan(16);
select tests.share_pgtap_tables();

select set_config('test.ann', tests.create_user('ann@dead-letters.test')::text, true);
select set_config('test.sam', tests.create_user('sam@dead-letters.test', true)::text, true);

-- Beacon's server (the owner) writes them.
select lives_ok($$
  insert into beacon.plugin_dead_letters (plugin, event_id, event, error, attempts, first_failed_at, last_failed_at)
  values ('webhook', '00000000-0000-4000-8000-000000000001', '{"id": "00000000-0000-4000-8000-000000000001"}',
          'webhook answered 400 Bad Request', 3, now() - interval '1 minute', now()),
         ('posthog', '00000000-0000-4000-8000-000000000002', '{"id": "00000000-0000-4000-8000-000000000002"}',
          'HTTP error while fetching PostHog: status=400', 3, now(), now())
$$, 'Beacon''s own role dead-letters events');
select throws_ok($$
  insert into beacon.plugin_dead_letters (plugin, event_id, event, error, attempts, first_failed_at, last_failed_at)
  values ('webhook', '00000000-0000-4000-8000-000000000001', '{}', 'again', 1, now(), now())
$$, '23505', null, 'an event is dead-lettered once per plugin');

-- ----------------------------------------------------------------- hygiene
select ok((select relrowsecurity from pg_class where oid = 'beacon.plugin_dead_letters'::regclass),
  'row level security is on for the dead letters');
select is(
  array(select c.relname::text from pg_class c
         where c.relnamespace = 'beacon'::regnamespace and c.relkind in ('r', 'p', 'v', 'm', 'f', 'S')
           and (has_table_privilege('authenticated', c.oid, 'select')
                or has_table_privilege('authenticated', c.oid, 'insert')
                or has_table_privilege('authenticated', c.oid, 'update')
                or has_table_privilege('authenticated', c.oid, 'delete'))
         order by 1),
  array['plugin_dead_letters'],
  'signed-in users hold a privilege on no other table in beacon, and only select on this one');
select is(
  array(select p.oid::regprocedure::text from pg_proc p
         where p.pronamespace = 'beacon'::regnamespace
           and (has_function_privilege('authenticated', p.oid, 'execute')
                or has_function_privilege('anon', p.oid, 'execute'))
         order by 1),
  array[]::text[],
  'no function in beacon is executable by API roles');
select ok(not has_schema_privilege('anon', 'beacon', 'usage'), 'anon cannot use schema beacon');

-- ----------------------------------------------------------------- anon
select tests.act_as('anon');
select throws_ok($$select * from beacon.plugin_dead_letters$$, '42501', null,
  'an anonymous visitor cannot read the dead letters');
select tests.clear_authentication();

-- ----------------------------------------------------------------- an ordinary user
select tests.authenticate_as(current_setting('test.ann')::uuid);
select is((select count(*)::int from beacon.plugin_dead_letters), 0, 'an ordinary user reads no dead letter');
select throws_ok($$select * from beacon.plugin_cursors$$, '42501', null,
  'nor the plugin cursors beside them');
select throws_ok($$select value from beacon.settings$$, '42501', null, 'nor the settings (the ingest key)');
select tests.clear_authentication();

-- ----------------------------------------------------------------- a superuser
select tests.authenticate_as(current_setting('test.sam')::uuid);
select is(
  (select array_agg(plugin || ':' || attempts order by plugin) from beacon.plugin_dead_letters),
  array['posthog:3', 'webhook:3'], 'a superuser reads the dead letters of every plugin');
select throws_ok($$delete from beacon.plugin_dead_letters$$, '42501', null, 'but cannot delete them');
select throws_ok($$update beacon.plugin_dead_letters set attempts = 1$$, '42501', null, 'nor change them');
select throws_ok($$
  insert into beacon.plugin_dead_letters (plugin, event_id, event, error, attempts, first_failed_at, last_failed_at)
  values ('webhook', gen_random_uuid(), '{}', 'forged', 1, now(), now())
$$, '42501', null, 'nor add any');
select throws_ok($$select value from beacon.settings$$, '42501', null,
  'and reads no other beacon table (the settings hold the ingest key)');
select tests.clear_authentication();

-- ----------------------------------------------------------------- service_role
select tests.act_as('service_role');
select throws_ok($$select * from beacon.plugin_dead_letters$$, '42501', null,
  'the service role (ingestion) cannot read them either');
select tests.clear_authentication();

select * from finish();
rollback;
