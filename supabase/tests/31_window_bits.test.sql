-- The 7- and 30-day active users and the calendar buckets from the closed days' bitmaps
-- (private.user_day_bits, migration 20261127140000): equal to distinct users counted from
-- analytics.user_activity; a day of the windows that has users but is not closed is read
-- live (the fallback); bitmaps of days not closed are never read; nobody but the owner
-- reaches the bitmaps.
begin;
select plan(11);
select tests.share_pgtap_tables();

-- Days far before any seeded data: D1, D2 = D1 + 1, D3 = D1 + 2.
select set_config('test.d1', ((now() at time zone 'UTC')::date - 500)::text, true);
create function pg_temp.at(days_after integer) returns timestamptz language sql stable as
  $$ select (current_setting('test.d1')::date + days_after + time '12:00')::timestamp at time zone 'UTC' $$;
create function pg_temp.metric(days_after integer, name text) returns numeric language sql stable as
  $$ select dm.value from analytics.daily_metrics dm
      where dm.day = current_setting('test.d1')::date + days_after and dm.metric = name and dm.dimension = '' $$;
select set_config('test.' || name, tests.create_user(name || '@window-bits.test')::text, true)
  from unnest(array['ann', 'ben', 'cat']) as name;

insert into public.events (event_type, user_id, anonymous_id, "timestamp") values
  ('page_view', current_setting('test.ann')::uuid, null, pg_temp.at(0)),
  ('page_view', current_setting('test.ben')::uuid, null, pg_temp.at(1)),
  ('page_view', current_setting('test.ann')::uuid, null, pg_temp.at(2)),
  ('page_view', current_setting('test.cat')::uuid, null, pg_temp.at(2)),
  ('page_view', null, 'visitor-window-bits', pg_temp.at(2));

-- D1 and D3 closed, D2 (with ben) not: D3's windows read D2 live.
select analytics.aggregate_day(current_setting('test.d1')::date);
select analytics.aggregate_day(current_setting('test.d1')::date + 2);
select is(pg_temp.metric(2, 'weekly_active_users'), 3::numeric,
  'a day of the window not closed but with users is counted (read live): ann, ben, cat');
select is(pg_temp.metric(2, 'monthly_active_users'), 3::numeric, 'the same for the 30-day window');
select is((select sum(bit_count(b.bits))::int from private.user_day_bits b
            where b.day = current_setting('test.d1')::date + 2),
  2, 'the bitmap of a closed day holds its signed-in users (ann, cat), not anonymous visitors');

-- A forged bitmap on the day before D1 (not closed, no events) is never read.
insert into private.user_day_bits (day, page, bits)
values (current_setting('test.d1')::date - 1, 0, private.page_bits(array[1, 2, 3, 4, 5, 6, 7, 8]));

-- Every day closed: the bitmaps serve.
select analytics.aggregate_day(current_setting('test.d1')::date + 1);
select is(pg_temp.metric(1, 'weekly_active_users'), 2::numeric, 'D2: ann and ben over 7 days');
select is(pg_temp.metric(2, 'weekly_active_users'), 3::numeric, 'D3: ann, ben and cat over 7 days');
select is(pg_temp.metric(0, 'monthly_active_users'), 1::numeric, 'D1: ann alone over 30 days');
select is(
  (select count(*)::int from analytics.bucket_active_users b
     join (select k.bucket, k.start, count(distinct ua.user_id) as users
             from analytics.user_activity ua
             cross join lateral (values ('week', date_trunc('week', ua.day)::date),
                                        ('month', date_trunc('month', ua.day)::date)) as k (bucket, start)
            where ua.day between current_setting('test.d1')::date and current_setting('test.d1')::date + 2
            group by 1, 2) as x on x.bucket = b.bucket and x.start = b.start and x.users = b.users),
  (select count(distinct k)::int from analytics.user_activity ua
     cross join lateral (values ('week' || date_trunc('week', ua.day)::date),
                                ('month' || date_trunc('month', ua.day)::date)) as v (k)
    where ua.day between current_setting('test.d1')::date and current_setting('test.d1')::date + 2),
  'each calendar week and month holding these days has its distinct users from user_activity');
select is((select array_agg(u.users order by u.bucket)::int[] from analytics.bucket_active_users u
            where (u.bucket, u.start) in (('month', date_trunc('month', current_setting('test.d1')::date)::date))),
  (select array[count(distinct ua.user_id)::int] from analytics.user_activity ua
    where date_trunc('month', ua.day) = date_trunc('month', current_setting('test.d1')::date)),
  'the month of D1 counts each user once');

-- The closed days' windows come from the bitmaps: a bit added to D2's moves D2's and D3's.
update private.user_day_bits b set bits = b.bits | private.page_bits(array[32767])
 where b.day = current_setting('test.d1')::date + 1 and b.page = 0;
select private.refresh_windows(current_setting('test.d1')::date + 1, current_setting('test.d1')::date + 2);
select is(array[pg_temp.metric(1, 'weekly_active_users'), pg_temp.metric(2, 'weekly_active_users')],
  array[3, 4]::numeric[], 'every day of the windows closed: the bitmaps are what is counted');

select tests.act_as('service_role');
select ok((select count(*) > 0 from private.user_day_bits),
  'the service role reads the bitmaps (the read functions count windows from them as their caller since migration 20261127190000; pgTAP 33 has the other roles)');
select tests.clear_authentication();
select ok(not has_function_privilege('authenticated', 'private.closed_users_between(date,date)', 'execute'),
  'signed-in users cannot call private.closed_users_between');

select * from finish();
rollback;
