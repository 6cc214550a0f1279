-- public.events' partitions: RLS and no grants on every one (including those made later by
-- the nightly maintenance), no API role reaches a partition or the id table directly, and
-- only the database's owner runs the maintenance.
begin;
select plan(24);
select tests.share_pgtap_tables();

select set_config('test.sam', tests.create_user('sam@partitions.test', true)::text, true);
select set_config('test.amy', tests.create_user('amy@partitions.test')::text, true);

-- A partition made later, as the nightly job makes them, with an event in it.
select is(private.ensure_event_partitions('2020-01-01', '2020-01-01'), 1,
  'the maintenance makes a partition for a month that has none');
insert into public.events (event_type, anonymous_id, "timestamp")
values ('page_view', 'partition-visitor', '2020-01-15T12:00:00Z');
select is((select tableoid::regclass::text from public.events where anonymous_id = 'partition-visitor'),
  'event_partitions.events_2020_01', 'the event is stored in its month''s partition');

create temporary table partition_list on commit drop as
select t.relid::regclass as part from pg_partition_tree('public.events') t where t.relid <> 'public.events'::regclass;
grant select on partition_list to public;

select ok((select count(*) >= 5 from partition_list),
  'public.events has its default partition and monthly ones (this month, two ahead, 2020-01)');
select ok(tests.rls_enabled('event_partitions'), 'row-level security is enabled on every partition');
select is((select count(*)::int from pg_class c join partition_list p on p.part = c.oid where not c.relrowsecurity), 0,
  'every partition of public.events, whatever made it, has row-level security');
select is(
  (select count(*)::int from partition_list p
    cross join unnest(array['anon', 'authenticated', 'service_role', 'analyst']) as r (role_name)
    cross join unnest(array['select', 'insert', 'update', 'delete', 'truncate']) as v (privilege)
   where has_table_privilege(r.role_name, p.part, v.privilege)),
  0, 'no API role has any privilege on any partition');
select is(
  (select count(*)::int from unnest(array['anon', 'authenticated', 'service_role', 'analyst']) as r (role_name)
   where has_schema_privilege(r.role_name, 'event_partitions', 'usage')),
  0, 'no API role may use the partitions'' schema');
select is(
  (select count(*)::int from unnest(array['anon', 'authenticated', 'analyst']) as r (role_name)
   where has_table_privilege(r.role_name, 'private.event_ids', 'select')),
  0, 'only the service role reads the ids kept for idempotency');
select is(
  (select count(*)::int from unnest(array['anon', 'authenticated', 'service_role', 'analyst']) as r (role_name)
   cross join unnest(array['insert', 'update', 'delete', 'truncate']) as v (privilege)
   where has_table_privilege(r.role_name, 'private.event_ids', v.privilege)),
  0, 'no API role writes the ids');
select is(
  (select count(*)::int from unnest(array['anon', 'authenticated', 'service_role', 'analyst']) as r (role_name)
   cross join unnest(array['private.ensure_event_partitions(date, date)', 'beacon.maintain_raw_events()',
                           'private.record_event_ids()']) as f (fn)
   where has_function_privilege(r.role_name, f.fn, 'execute')),
  0, 'no API role runs the partition maintenance');

-- ----------------------------------------------------------------------------- directly
select tests.act_as('anon');
select throws_ok($$select count(*) from event_partitions.events_default$$, '42501', null,
  'an anonymous visitor cannot read a partition');
select throws_ok($$insert into event_partitions.events_2020_01 (event_type, anonymous_id, "timestamp") values ('x', 'v', '2020-01-02')$$,
  '42501', null, 'an anonymous visitor cannot write a partition');
select tests.authenticate_as(current_setting('test.amy')::uuid);
select throws_ok($$select count(*) from event_partitions.events_2020_01$$, '42501', null,
  'a signed-in user cannot read a partition');
select throws_ok($$delete from event_partitions.events_2020_01$$, '42501', null,
  'a signed-in user cannot delete from a partition');
select throws_ok($$select count(*) from private.event_ids$$, '42501', null,
  'a signed-in user cannot read the ids');
select tests.authenticate_as(current_setting('test.sam')::uuid);
select throws_ok($$select count(*) from event_partitions.events_2020_01$$, '42501', null,
  'a superuser reads events through public.events only');
select is((select count(*)::int from public.events where anonymous_id = 'partition-visitor'), 1,
  'a superuser reads the new partition''s event through public.events');
select tests.act_as('analyst');
select throws_ok($$select count(*) from event_partitions.events_default$$, '42501', null,
  'an analyst cannot read a partition directly');
select is((select count(*)::int from public.events where anonymous_id = 'partition-visitor'), 1,
  'an analyst reads the new partition''s event through public.events');
select tests.act_as('service_role');
select throws_ok($$truncate event_partitions.events_2020_01$$, '42501', null,
  'the service role cannot truncate a partition');
select throws_ok($$select beacon.maintain_raw_events()$$, '42501', null,
  'the service role cannot run the maintenance');
select throws_ok($$delete from private.event_ids$$, '42501', null,
  'the service role cannot forget ids');

-- ----------------------------------------------------------------------------- through the parent
select tests.authenticate_as(current_setting('test.amy')::uuid);
select is((select count(*)::int from public.events where anonymous_id = 'partition-visitor'), 0,
  'a signed-in user still reads no event through public.events');
select tests.clear_authentication();
select is(
  (select count(*)::int from pg_policies where schemaname = 'public' and tablename = 'events'), 4,
  'public.events keeps its four policies');

select * from finish();
rollback;
