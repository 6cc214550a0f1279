-- Events inserted without an id get a UUID version 7 of the moment they were inserted
-- (migration 20261127130000): version and variant bits, the millisecond in the first 48 bits,
-- later ids sorting after earlier ones; given ids are kept; a retry still fails with 23505.
begin;
select plan(7);
select tests.share_pgtap_tables();

create temporary table made (n integer, id uuid, at timestamptz);
grant all on table made to public;

select tests.act_as('anon');
insert into public.events (event_type, anonymous_id) values ('v7', 'anon-v7-1');
select tests.clear_authentication();
insert into made select 1, e.id, clock_timestamp() from public.events e where e.anonymous_id = 'anon-v7-1';
select pg_sleep(0.005);
select tests.act_as('anon');
insert into public.events (event_type, anonymous_id) values ('v7', 'anon-v7-2');
select tests.clear_authentication();
insert into made select 2, e.id, clock_timestamp() from public.events e where e.anonymous_id = 'anon-v7-2';

select is((select count(*)::int from made where id::text ~ '^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$'),
  2, 'an event inserted without an id (here by anon) gets a UUID version 7 with the RFC 9562 variant');
select ok((select bool_and(('x' || substr(replace(id::text, '-', ''), 1, 12))::bit(48)::bigint
                           between floor(extract(epoch from at - interval '10 seconds') * 1000)::bigint
                               and floor(extract(epoch from at) * 1000)::bigint)
             from made),
  'its first 48 bits are the millisecond it was inserted at');
select ok((select id from made where n = 1) < (select id from made where n = 2),
  'an id made later sorts after one made earlier');
select isnt((select id from made where n = 1), (select id from made where n = 2), 'the ids differ');

insert into public.events (id, event_type, anonymous_id)
values ('0b6a1f9e-3c1d-4e7a-9a57-2f1f5b2d8c11', 'v4', 'anon-v4');
select is((select id::text from public.events where anonymous_id = 'anon-v4'),
  '0b6a1f9e-3c1d-4e7a-9a57-2f1f5b2d8c11', 'an id the app gives is kept as it is');
select throws_ok($$insert into public.events (id, event_type, anonymous_id)
                   select id, 'v7', 'anon-v7-retry' from made where n = 1$$,
  '23505', null, 'a retry with a made id still fails with 23505');
select is(
  (select count(*)::int from pg_attrdef d
     join pg_attribute a on a.attrelid = d.adrelid and a.attnum = d.adnum and a.attname = 'id'
    where d.adrelid = 'public.events'::regclass
      and pg_get_expr(d.adbin, d.adrelid) like '%set_bit%gen_random_uuid%'),
  1, 'the default of public.events.id is the version 7 expression');

select * from finish();
rollback;
