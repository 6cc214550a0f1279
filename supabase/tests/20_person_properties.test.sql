-- Person properties: $set and $set_once applied in order, merged on a link, and read like profiles.
begin;
select plan(13);
select tests.share_pgtap_tables();

select set_config('test.ann', tests.create_user('ann@person-props.test')::text, true);
select set_config('test.ben', tests.create_user('ben@person-props.test')::text, true);
select set_config('test.sam', tests.create_user('sam@person-props.test', true)::text, true);

-- Ann browses as device-p, then signs in on it (the event carrying both ids links them).
select tests.act_as('service_role');
select private.apply_person_properties(jsonb_build_array(
  jsonb_build_object('person_id', 'device-p', 'user_id', null,
                     'set_once', '{"first_page": "/pricing", "plan": "none"}'::jsonb)));
insert into public.events (event_type, user_id, anonymous_id)
values ('$identify', current_setting('test.ann')::uuid, 'device-p');
select private.apply_person_properties(jsonb_build_array(
  jsonb_build_object('person_id', current_setting('test.ann'), 'user_id', current_setting('test.ann'),
                     'merge_from', 'device-p', 'set', '{"plan": "free"}'::jsonb),
  jsonb_build_object('person_id', current_setting('test.ann'), 'user_id', current_setting('test.ann'),
                     'set', '{"plan": "pro"}'::jsonb, 'set_once', '{"plan": "never", "since": 2026}'::jsonb),
  jsonb_build_object('person_id', current_setting('test.ben'), 'user_id', current_setting('test.ben'),
                     'merge_from', 'device-p', 'set', '{"plan": "team"}'::jsonb)));
select tests.clear_authentication();

select is((select properties from analytics.person_properties where person_id = current_setting('test.ann')),
  '{"first_page": "/pricing", "plan": "pro", "since": 2026}'::jsonb,
  'a user takes on the linked anonymous person''s properties; $set overwrites, $set_once only fills');
select is((select properties from analytics.person_properties where person_id = 'device-p'),
  '{"first_page": "/pricing", "plan": "none"}'::jsonb,
  'the anonymous person keeps its own properties');
select is((select properties from analytics.person_properties where person_id = current_setting('test.ben')),
  '{"plan": "team"}'::jsonb,
  'an anonymous id linked to another user lends nothing to a second one');

-- A change that would grow a person past 64 KiB is skipped, not an error.
select tests.act_as('service_role');
select lives_ok(format($$select private.apply_person_properties(jsonb_build_array(
  jsonb_build_object('person_id', 'device-big', 'user_id', null, 'set', jsonb_build_object('a', %L)),
  jsonb_build_object('person_id', 'device-big', 'user_id', null, 'set', jsonb_build_object('b', %L)),
  jsonb_build_object('person_id', 'device-big', 'user_id', null, 'set', jsonb_build_object('c', %L))))$$,
  md5_filler.v, md5_filler.v, md5_filler.v),
  'a change that would make a person too large is skipped without failing the batch')
  from (select string_agg(md5(i::text), '') as v from generate_series(1, 900) i) md5_filler;
select tests.clear_authentication();
select is((select array(select jsonb_object_keys(properties) order by 1) from analytics.person_properties where person_id = 'device-big'),
  array['a', 'b'],
  'the changes that fit are kept');

-- Who reads what.
select tests.authenticate_as(current_setting('test.ann')::uuid);
select is((select array_agg(person_id) from analytics.person_properties),
  array[current_setting('test.ann')],
  'a user reads only their own person properties');
select throws_ok($$update analytics.person_properties set properties = '{}'$$, '42501', null,
  'a user cannot change person properties');
select throws_ok($$select private.apply_person_properties('[]')$$, '42501', null,
  'a user cannot call private.apply_person_properties');
select throws_ok($$select private.known_user_ids(array[gen_random_uuid()])$$, '42501', null,
  'a user cannot probe which ids are users');
select tests.authenticate_as(current_setting('test.sam')::uuid);
select is((select count(*)::int from analytics.person_properties), 4,
  'a superuser reads every person''s properties');
select tests.act_as('analyst');
select is((select count(*)::int from analytics.person_properties), 4,
  'an analyst reads every person''s properties');
select tests.act_as('anon');
select throws_ok($$select * from analytics.person_properties$$, '42501', null,
  'an anonymous visitor cannot read person properties');
select tests.act_as('service_role');
select is((select array_agg(k order by k) from private.known_user_ids(
  array[current_setting('test.ann')::uuid, gen_random_uuid()]) as k),
  array[current_setting('test.ann')::uuid],
  'known_user_ids names the ids that are users and no others');
select tests.clear_authentication();

select * from finish();
rollback;
