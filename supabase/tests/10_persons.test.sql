-- Persons: links from events carrying both ids, the first link kept, and who may read them.
begin;
select plan(12);
select tests.share_pgtap_tables();

select set_config('test.ann', tests.create_user('ann@persons.test')::text, true);
select set_config('test.ben', tests.create_user('ben@persons.test')::text, true);
select set_config('test.sam', tests.create_user('sam@persons.test', true)::text, true);

-- Ann browses anonymously as device-a, then signs in on it; Ben later signs in on device-a too.
select tests.act_as('anon');
insert into public.events (event_type, anonymous_id, "timestamp")
values ('page_view', 'device-a', now() - interval '3 days'),
       ('page_view', 'device-z', now() - interval '3 days');
select tests.authenticate_as(current_setting('test.ann')::uuid);
insert into public.events (event_type, anonymous_id, "timestamp")
values ('goal_submitted', 'device-a', now() - interval '2 days');
select tests.authenticate_as(current_setting('test.ben')::uuid);
insert into public.events (event_type, anonymous_id, "timestamp")
values ('goal_submitted', 'device-a', now() - interval '1 day');
select tests.act_as('anon');
insert into public.events (event_type, anonymous_id) values ('page_view', 'device-a');
select tests.clear_authentication();

select is((select user_id::text from analytics.person_links where anonymous_id = 'device-a'),
  current_setting('test.ann'),
  'an anonymous id belongs to the first user it was seen with');
select is((select count(*)::int from analytics.person_links where anonymous_id = 'device-z'), 0,
  'an anonymous id never seen with a user has no link');
select is(
  (select count(*)::int from analytics.person_events
    where anonymous_id = 'device-a' and person_id = current_setting('test.ann')),
  3,
  'device-a''s events before and after the link, and the linking one, are Ann''s');
select is(
  (select count(*)::int from analytics.person_events
    where person_id = current_setting('test.ben') and event_type = 'goal_submitted'),
  1,
  'Ben''s own signed-in event stays his: a second link never merges two accounts');
select is(
  (select person_id from analytics.person_events where anonymous_id = 'device-z'),
  'device-z',
  'an unlinked visitor is a person of their own, named by the anonymous id');

-- A batch that links in one statement links by arrival order within it.
select tests.act_as('service_role');
insert into public.events (event_type, user_id, anonymous_id)
values ('page_view', current_setting('test.ben')::uuid, 'device-b'),
       ('page_view', current_setting('test.ann')::uuid, 'device-b');
select tests.clear_authentication();
select is((select user_id::text from analytics.person_links where anonymous_id = 'device-b'),
  current_setting('test.ben'),
  'within one insert statement the first row by arrival links');

-- Access
select tests.act_as('anon');
select throws_ok($$select * from analytics.person_links$$, '42501', null,
  'an anonymous visitor cannot read person links');
select tests.authenticate_as(current_setting('test.ann')::uuid);
select is((select count(*)::int from analytics.person_links), 0,
  'a signed-in user who is not a superuser sees no person links');
select is((select count(*)::int from analytics.person_events), 0,
  'nor any person events');
select throws_ok($$insert into analytics.person_links values ('x', gen_random_uuid(), now(), gen_random_uuid())$$,
  '42501', null, 'a signed-in user cannot write person links');
select tests.authenticate_as(current_setting('test.sam')::uuid);
select ok((select count(*) from analytics.person_links) >= 2, 'a superuser reads person links');
select tests.act_as('analyst');
select ok((select count(*) from analytics.person_events) >= 6, 'an analyst reads person events');

select * from finish();
rollback;
