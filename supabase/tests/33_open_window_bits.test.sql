-- Windows holding a day not closed from bitmaps (migration 20261127190000): the closed hours'
-- users of a day not closed kept as bitmaps by triggers, the 7- and 30-day active users and
-- the current calendar bucket's counted from closed days', closed hours' and snapshots'
-- bitmaps plus the users of newer events, each checked against the events themselves; the
-- bitmaps read (a forged bit shows), and not read when a day has no snapshot that holds.
begin;
select plan(17);
select tests.share_pgtap_tables();
-- pg_cron runs the jobs in this database: their locks for the whole test (a minute run
-- started meanwhile leaves the work to ours; an hourly or nightly one waits for the end).
select pg_advisory_xact_lock(hashtext('beacon.refresh_live_parts'));
select pg_advisory_xact_lock(hashtext('beacon.run_hourly_rollup'));
select pg_advisory_xact_lock(hashtext('beacon.run_daily_aggregation'));

select set_config('test.alice', tests.create_user('alice@window-bits.test')::text, true);
select set_config('test.bob', tests.create_user('bob@window-bits.test')::text, true);
select set_config('test.carol', tests.create_user('carol@window-bits.test')::text, true);
select set_config('test.dave', tests.create_user('dave@window-bits.test')::text, true);
select set_config('test.olive', tests.create_user('olive@window-bits.test')::text, true);
select set_config('test.frank', tests.create_user('frank@window-bits.test')::text, true);
select set_config('test.sam', tests.create_user('sam@window-bits.test', true)::text, true);
select set_config('test.day', ((now() at time zone 'UTC')::date - 1)::text, true);
select set_config('test.lo', (current_setting('test.day')::date::timestamp at time zone 'UTC')::text, true);
-- The day not closed, with only the events below; the days before it closed as they are.
delete from analytics.aggregated_days where day = current_setting('test.day')::date;
delete from public.events
 where "timestamp" >= current_setting('test.lo')::timestamptz
   and "timestamp" < current_setting('test.lo')::timestamptz + interval '1 day';
delete from analytics.closed_hours
 where hour >= current_setting('test.lo')::timestamptz and hour < current_setting('test.lo')::timestamptz + interval '1 day';
delete from analytics.hourly_events
 where hour >= current_setting('test.lo')::timestamptz and hour < current_setting('test.lo')::timestamptz + interval '1 day';
delete from analytics.hourly_user_activity
 where hour >= current_setting('test.lo')::timestamptz and hour < current_setting('test.lo')::timestamptz + interval '1 day';
delete from analytics.hourly_day_users where day = current_setting('test.day')::date;
delete from analytics.hourly_day_totals where day = current_setting('test.day')::date;

-- Hours 00-01 (closed below): alice, bob. Hours 02-05, of finished transactions (in the
-- snapshot): bob again, carol.
insert into public.events (event_type, user_id, "timestamp", txid)
select 'view', v.u, current_setting('test.lo')::timestamptz + v.at, '1'::xid8
  from (values (current_setting('test.alice')::uuid, interval '10 minutes'),
               (current_setting('test.frank')::uuid, interval '20 minutes'),
               (current_setting('test.bob')::uuid, interval '1 hour 10 minutes'),
               (current_setting('test.bob')::uuid, interval '2 hours 10 minutes'),
               (current_setting('test.carol')::uuid, interval '5 hours 10 minutes')) as v (u, at);
select private.close_hour(current_setting('test.lo')::timestamptz);
select private.close_hour(current_setting('test.lo')::timestamptz + interval '1 hour');
-- Three days before, erin, and that day closed by the nightly job (its users' bitmaps).
select set_config('test.erin', tests.create_user('erin@window-bits.test')::text, true);
insert into public.events (event_type, user_id, "timestamp")
values ('view', current_setting('test.erin')::uuid, current_setting('test.lo')::timestamptz - interval '3 days' + interval '10 hours');
select analytics.aggregate_day(current_setting('test.day')::date - 3);

select is((select sum(bit_count(b.bits)) from private.open_user_bits b where b.day = current_setting('test.day')::date),
          (select count(*)::numeric from analytics.hourly_day_users du where du.day = current_setting('test.day')::date),
          'the closed hours'' users of the day are its bitmaps (kept by the triggers)');
select ok((select count(*) = 3 from analytics.person_ids i
            where i.person_id in (current_setting('test.alice'), current_setting('test.bob'), current_setting('test.frank'))),
          'users new to the rollup got a person number');
select analytics.refresh_live_parts();
-- Newer events (this transaction's): dave (new), alice again.
insert into public.events (event_type, user_id, "timestamp")
select 'view', v.u, current_setting('test.lo')::timestamptz + v.at
  from (values (current_setting('test.dave')::uuid, interval '7 hours'),
               (current_setting('test.alice')::uuid, interval '8 hours')) as v (u, at);

-- From the events themselves: distinct users from first to last (as the test's superuser).
create function pg_temp.users_between(first_day date, last_day date) returns numeric language sql as $$
  select count(distinct e.user_id)::numeric from public.events e
   where e."timestamp" >= first_day::timestamp at time zone 'UTC'
     and e."timestamp" < (last_day + 1)::timestamp at time zone 'UTC'
$$;
create function pg_temp.series(metric text, bucket text, first_day date, last_day date) returns numeric language sql as $$
  select t.value from analytics.timeseries(metric, first_day, last_day, bucket) t where t.bucket_start = first_day
$$;
grant execute on function pg_temp.series(text, text, date, date) to public;
create function pg_temp.window_users(first_day date, last_day date) returns bigint language sql as $$
  select private.open_window_users(first_day, last_day)
$$;
grant execute on function pg_temp.window_users(date, date) to public;

select tests.authenticate_as(current_setting('test.sam')::uuid);
select is(pg_temp.series('weekly_active_users', 'day', current_setting('test.day')::date, current_setting('test.day')::date),
          pg_temp.users_between(current_setting('test.day')::date - 6, current_setting('test.day')::date),
          'the day''s 7-day active users: closed days, closed hours, snapshot and newer events, each user once');
select is(pg_temp.series('monthly_active_users', 'day', current_setting('test.day')::date, current_setting('test.day')::date),
          pg_temp.users_between(current_setting('test.day')::date - 29, current_setting('test.day')::date),
          'its 30-day active users');
select is(pg_temp.series('active_users', 'week', date_trunc('week', current_setting('test.day')::date)::date,
                         current_setting('test.day')::date),
          pg_temp.users_between(date_trunc('week', current_setting('test.day')::date)::date,
                                least((date_trunc('week', current_setting('test.day')::date) + interval '6 days')::date,
                                      (now() at time zone 'UTC')::date)),
          'the active users of its calendar week (the days of it so far)');
select is(pg_temp.window_users(current_setting('test.day')::date - 6, current_setting('test.day')::date)::numeric,
          pg_temp.users_between(current_setting('test.day')::date - 6, current_setting('test.day')::date),
          'the bitmaps answer (not the count as before)');
select tests.clear_authentication();

-- The closed days come from the job's trailing ORs (kept for the last closed day): a forged
-- page in them shows too.
select ok(exists (select 1 from private.trailing_user_bits_state), 'the job keeps the trailing ORs of the closed days');
insert into private.trailing_user_bits (span, page, bits)
select k, 60001, private.page_bits(array[3]) from generate_series(1, 31) as k;
select tests.authenticate_as(current_setting('test.sam')::uuid);
select is(pg_temp.series('weekly_active_users', 'day', current_setting('test.day')::date, current_setting('test.day')::date),
          pg_temp.users_between(current_setting('test.day')::date - 6, current_setting('test.day')::date) + 1,
          'the closed days of the window are read from the trailing ORs');
select tests.clear_authentication();
delete from private.trailing_user_bits where page = 60001;

-- The bitmaps are what is read: a forged page shows.
insert into private.open_user_bits (day, page, bits)
values (current_setting('test.day')::date, 60000, private.page_bits(array[7]));
select tests.authenticate_as(current_setting('test.sam')::uuid);
select is(pg_temp.series('weekly_active_users', 'day', current_setting('test.day')::date, current_setting('test.day')::date),
          pg_temp.users_between(current_setting('test.day')::date - 6, current_setting('test.day')::date) + 1,
          'a bit set by hand counts one more user');
select tests.clear_authentication();
delete from private.open_user_bits where day = current_setting('test.day')::date and page = 60000;

-- Closing an hour again rebuilds the day's users: the bitmaps follow (frank's only event
-- gone, his bit goes).
create function pg_temp.frank_bit() returns integer language sql as $$
  select get_bit(b.bits, i.id % 32768)
    from analytics.person_ids i
    join private.open_user_bits b on b.page = i.id / 32768 and b.day = current_setting('test.day')::date
   where i.person_id = current_setting('test.frank')
$$;
select is(pg_temp.frank_bit(), 1, 'frank, seen in hour 00, has his bit');
delete from public.events where user_id = current_setting('test.frank')::uuid;
select private.close_hour(current_setting('test.lo')::timestamptz);
select is(coalesce(pg_temp.frank_bit(), 0), 0, 'his event gone and the hour closed again: his bit is cleared');
select is((select sum(bit_count(b.bits)) from private.open_user_bits b where b.day = current_setting('test.day')::date),
          (select count(*)::numeric from analytics.hourly_day_users du where du.day = current_setting('test.day')::date),
          'the day''s users rebuilt: its bitmaps too');

-- Its snapshot dropped by that closing: the bitmaps do not answer, the count as before does.
select tests.authenticate_as(current_setting('test.sam')::uuid);
select is(pg_temp.window_users(current_setting('test.day')::date - 6, current_setting('test.day')::date), null::bigint,
          'a day not closed without a snapshot that holds: the bitmaps do not answer');
select is(pg_temp.series('weekly_active_users', 'day', current_setting('test.day')::date, current_setting('test.day')::date),
          pg_temp.users_between(current_setting('test.day')::date - 6, current_setting('test.day')::date),
          'and the series counts as before, exactly');
select tests.clear_authentication();
select analytics.refresh_live_parts();

-- Access: only superusers, analysts and the service role read the bitmaps.
select tests.authenticate_as(current_setting('test.olive')::uuid);
select is((select count(*) from private.open_user_bits) + (select count(*) from private.user_day_bits)
          + (select count(*) from private.live_part_bits), 0::bigint,
  'an ordinary user reads no bitmap');
select is(pg_temp.series('weekly_active_users', 'day', current_setting('test.day')::date, current_setting('test.day')::date),
          0::numeric, 'and counts no user, as before');
select tests.clear_authentication();
truncate analytics.hourly_day_users;
select is((select count(*) from private.open_user_bits), 0::bigint,
  'analytics.hourly_day_users truncated: no bitmap left');

select * from finish();
rollback;
