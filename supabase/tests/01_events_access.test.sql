-- Who may do what on public.events: every role and operation.
begin;
select plan(36);
select tests.share_pgtap_tables();

select set_config('test.alice', tests.create_user('alice@events.test')::text, true);
select set_config('test.bob', tests.create_user('bob@events.test')::text, true);
select set_config('test.sam', tests.create_user('sam@events.test', true)::text, true);
insert into public.events (event_type, user_id, payload)
select 'page_view', current_setting('test.bob')::uuid, '{"path": "/"}' from generate_series(1, 3);
insert into public.events (event_type, user_id) values ('page_view', current_setting('test.alice')::uuid);
select set_config('test.total', (select count(*) from public.events)::text, true);

-- ----------------------------------------------------------------------------- select
select tests.act_as('anon');
select throws_ok($$select count(*) from public.events$$, '42501', null,
  'an anonymous visitor cannot read events');
select tests.authenticate_as(current_setting('test.alice')::uuid);
select is((select count(*) from public.events where user_id = current_setting('test.alice')::uuid), 0::bigint,
  'a signed-in user cannot read even their own events');
select is((select count(*) from public.events where user_id = current_setting('test.bob')::uuid), 0::bigint,
  'a signed-in user cannot read another user''s events');
select tests.authenticate_as(current_setting('test.sam')::uuid);
select is((select count(*)::text from public.events), current_setting('test.total'),
  'a superuser reads every event');
select tests.act_as('analyst');
select is((select count(*)::text from public.events), current_setting('test.total'),
  'an analyst reads every event');
select tests.act_as('service_role');
select is((select count(*)::text from public.events), current_setting('test.total'),
  'the service role reads every event');

-- ----------------------------------------------------------------------------- insert
select tests.act_as('anon');
select lives_ok($$insert into public.events (event_type, anonymous_id) values ('page_view', 'visitor-1')$$,
  'an anonymous visitor can record an anonymous event');
select throws_ok(format($$insert into public.events (event_type, user_id) values ('page_view', %L)$$, current_setting('test.alice')),
  '42501', null, 'an anonymous visitor cannot record an event for a user');
select throws_ok($$insert into public.events (event_type, anonymous_id, received_at) values ('x', 'v', now())$$,
  '42501', null, 'nobody but the database sets received_at');

select tests.authenticate_as(current_setting('test.alice')::uuid);
select lives_ok(format($$insert into public.events (id, event_type, user_id) values ('00000000-0000-4000-8000-00000000a001', 'clicked', %L)$$, current_setting('test.alice')),
  'a signed-in user can record their own event');
select lives_ok($$insert into public.events (id, event_type) values ('00000000-0000-4000-8000-00000000a002', 'clicked')$$,
  'a signed-in user can record an event without naming themselves');
select lives_ok($$insert into public.events (event_type, user_id, anonymous_id) values ('clicked', null, 'device-7')$$,
  'a signed-in user can record an anonymous event');
select throws_ok(format($$insert into public.events (event_type, user_id) values ('clicked', %L)$$, current_setting('test.bob')),
  '42501', null, 'a signed-in user cannot record an event for another user');
select throws_ok($$insert into public.events (id, event_type) values ('00000000-0000-4000-8000-00000000a001', 'clicked') on conflict (id) do nothing$$,
  '42P10', null, 'insert ... on conflict (id) is refused (ids are unique through private.event_ids, no arbiter on the partitioned table; apps have no read access either): apps retry with a plain insert');
select throws_ok($$insert into public.events (id, event_type) values ('00000000-0000-4000-8000-00000000a001', 'clicked')$$,
  '23505', null, 'a plain retry with the same id is refused as a duplicate');

select tests.authenticate_as(current_setting('test.sam')::uuid);
select throws_ok(format($$insert into public.events (event_type, user_id) values ('clicked', %L)$$, current_setting('test.bob')),
  '42501', null, 'a superuser cannot record events for another user either');

select tests.act_as('analyst');
select throws_ok($$insert into public.events (event_type, anonymous_id) values ('x', 'v')$$,
  '42501', null, 'an analyst cannot record events');

select tests.act_as('service_role');
select lives_ok(format($$insert into public.events (event_type, user_id) values ('imported', %L)$$, current_setting('test.bob')),
  'the service role can record events for any user');

select tests.clear_authentication();
select is((select user_id::text from public.events where id = '00000000-0000-4000-8000-00000000a002'), current_setting('test.alice'),
  'an event recorded without user_id belongs to the signed-in user');
select is((select count(*) from public.events where id = '00000000-0000-4000-8000-00000000a001'), 1::bigint,
  'the retried event is stored once');

-- ----------------------------------------------------------------------------- update and delete
select tests.act_as('anon');
select throws_ok($$update public.events set event_type = 'x'$$, '42501', null, 'an anonymous visitor cannot update events');
select throws_ok($$delete from public.events$$, '42501', null, 'an anonymous visitor cannot delete events');
select tests.authenticate_as(current_setting('test.alice')::uuid);
select throws_ok(format($$update public.events set event_type = 'x' where user_id = %L$$, current_setting('test.alice')),
  '42501', null, 'a signed-in user cannot update their own events');
select throws_ok(format($$update public.events set event_type = 'x' where user_id = %L$$, current_setting('test.bob')),
  '42501', null, 'a signed-in user cannot update another user''s events');
select throws_ok(format($$delete from public.events where user_id = %L$$, current_setting('test.alice')),
  '42501', null, 'a signed-in user cannot delete their own events');
select throws_ok(format($$delete from public.events where user_id = %L$$, current_setting('test.bob')),
  '42501', null, 'a signed-in user cannot delete another user''s events');
select tests.authenticate_as(current_setting('test.sam')::uuid);
select throws_ok($$update public.events set event_type = 'x'$$, '42501', null, 'a superuser cannot update events');
select throws_ok($$delete from public.events$$, '42501', null, 'a superuser cannot delete events');
select tests.act_as('analyst');
select throws_ok($$update public.events set event_type = 'x'$$, '42501', null, 'an analyst cannot update events');
select throws_ok($$delete from public.events$$, '42501', null, 'an analyst cannot delete events');
select tests.act_as('service_role');
select throws_ok($$update public.events set event_type = 'x'$$, '42501', null, 'the service role cannot update events (append-only)');
select throws_ok($$delete from public.events$$, '42501', null, 'the service role cannot delete events (append-only)');

-- ----------------------------------------------------------------------------- the row's own rules
select tests.act_as('anon');
select throws_ok($$insert into public.events (event_type) values ('page_view')$$,
  '23514', null, 'an anonymous event needs an anonymous_id');
select throws_ok($$insert into public.events (event_type, anonymous_id, "timestamp") values ('x', 'v', now() + interval '2 days')$$,
  '23514', null, 'an event more than a day in the future is refused');
select throws_ok($$insert into public.events (event_type, anonymous_id, payload) values ('x', 'v', '[1, 2]')$$,
  '23514', null, 'a payload must be a JSON object');
select throws_ok($$insert into public.events (event_type, anonymous_id) values ('', 'v')$$,
  '23514', null, 'an event type cannot be empty');

select * from finish();
rollback;
