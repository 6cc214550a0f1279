-- Windows holding a day not closed kept by the minute job (migration 20261127200000): the
-- count of each range as of the snapshots (private.window_users) and its users apart from
-- them as merged pages (private.window_closed_bits), read with the newer events; each checked
-- against the events themselves, shown to be what is read (a forged count or bit shows),
-- not read once what it was computed from changes (the sequence private.window_changes moved,
-- or a snapshot not the one counted), nor when stale; a calendar bucket
-- whose days not closed hold no signed-in user's event from the rollup's count; access.
begin;
select plan(28);
select tests.share_pgtap_tables();
-- pg_cron runs the jobs in this database: their locks for the whole test (a minute run
-- started meanwhile leaves the work to ours; an hourly or nightly one waits for the end).
select pg_advisory_xact_lock(hashtext('beacon.refresh_live_parts'));
select pg_advisory_xact_lock(hashtext('beacon.run_hourly_rollup'));
select pg_advisory_xact_lock(hashtext('beacon.run_daily_aggregation'));

select set_config('test.alice', tests.create_user('alice@kept-windows.test')::text, true);
select set_config('test.bob', tests.create_user('bob@kept-windows.test')::text, true);
select set_config('test.carol', tests.create_user('carol@kept-windows.test')::text, true);
select set_config('test.dave', tests.create_user('dave@kept-windows.test')::text, true);
select set_config('test.olive', tests.create_user('olive@kept-windows.test')::text, true);
select set_config('test.frank', tests.create_user('frank@kept-windows.test')::text, true);
select set_config('test.sam', tests.create_user('sam@kept-windows.test', true)::text, true);
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
select set_config('test.erin', tests.create_user('erin@kept-windows.test')::text, true);
insert into public.events (event_type, user_id, "timestamp")
values ('view', current_setting('test.erin')::uuid, current_setting('test.lo')::timestamptz - interval '3 days' + interval '10 hours');
select analytics.aggregate_day(current_setting('test.day')::date - 3);

select analytics.refresh_live_parts();
-- Newer events (this transaction's): dave (new), alice again.
insert into public.events (event_type, user_id, "timestamp")
select 'view', v.u, current_setting('test.lo')::timestamptz + v.at
  from (values (current_setting('test.dave')::uuid, interval '7 hours'),
               (current_setting('test.alice')::uuid, interval '8 hours')) as v (u, at);

-- From the events themselves: distinct users from first to last (as the test's superuser).
create function pg_temp.users_between(first_day date, last_day date) returns bigint language sql as $$
  select count(distinct e.user_id) from public.events e
   where e."timestamp" >= first_day::timestamp at time zone 'UTC'
     and e."timestamp" < (last_day + 1)::timestamp at time zone 'UTC'
$$;
create function pg_temp.window_users(first_day date, last_day date) returns bigint language sql as $$
  select private.open_window_users(first_day, last_day)
$$;
grant execute on function pg_temp.window_users(date, date) to public;
create function pg_temp.kept(first_day date, last_day date) returns boolean language sql as $$
  select exists (select 1 from private.window_users w where w.first_day = $1 and w.last_day = $2)
$$;
create function pg_temp.week_of_day() returns date language sql as $$
  select current_setting('test.day')::date - 6
$$;

select ok(pg_temp.kept(pg_temp.week_of_day(), current_setting('test.day')::date),
          'the job keeps the day''s 7-day window');
select ok(pg_temp.kept(date_trunc('week', current_setting('test.day')::date)::date,
                       least((date_trunc('week', current_setting('test.day')::date) + interval '6 days')::date,
                             (now() at time zone 'UTC')::date)),
          'and its calendar week');
select ok(not pg_temp.kept(current_setting('test.day')::date - 29, current_setting('test.day')::date),
          'not its 30-day window, which holds days neither closed nor snapshotted (read from the bitmaps)');
select tests.authenticate_as(current_setting('test.sam')::uuid);
select is(pg_temp.window_users(pg_temp.week_of_day(), current_setting('test.day')::date),
          pg_temp.users_between(pg_temp.week_of_day(), current_setting('test.day')::date),
          'kept count plus the newer events'' users: the 7-day active users, each user once');
select is((select t.value from analytics.timeseries('monthly_active_users', current_setting('test.day')::date,
                                                    current_setting('test.day')::date) t)::bigint,
          pg_temp.users_between(current_setting('test.day')::date - 29, current_setting('test.day')::date),
          'the 30-day active users of the series likewise');
select tests.clear_authentication();

-- The kept count is what is read.
update private.window_users set users = users + 5
 where first_day = pg_temp.week_of_day() and last_day = current_setting('test.day')::date;
select tests.authenticate_as(current_setting('test.sam')::uuid);
select is(pg_temp.window_users(pg_temp.week_of_day(), current_setting('test.day')::date),
          pg_temp.users_between(pg_temp.week_of_day(), current_setting('test.day')::date) + 5,
          'a kept count changed by hand shows');
select tests.clear_authentication();
-- Not once it is stale (the job stopped): the bitmaps answer, exactly.
update private.window_users set taken_at = now() - interval '6 minutes'
 where first_day = pg_temp.week_of_day() and last_day = current_setting('test.day')::date;
select tests.authenticate_as(current_setting('test.sam')::uuid);
select is(pg_temp.window_users(pg_temp.week_of_day(), current_setting('test.day')::date),
          pg_temp.users_between(pg_temp.week_of_day(), current_setting('test.day')::date),
          'a kept count older than 5 minutes is not read');
select tests.clear_authentication();

-- The merged pages are what the newer users are checked against: gina (numbered, not in
-- the window before) gets a newer event and a forged bit in them: not counted.
select analytics.refresh_live_parts();
select set_config('test.gina', tests.create_user('gina@kept-windows.test')::text, true);
insert into analytics.person_ids (person_id, id)
values (current_setting('test.gina'), nextval('private.person_id_seq'));
insert into public.events (event_type, user_id, "timestamp")
values ('view', current_setting('test.gina')::uuid, current_setting('test.lo')::timestamptz + interval '9 hours');
select tests.authenticate_as(current_setting('test.sam')::uuid);
select is(pg_temp.window_users(pg_temp.week_of_day(), current_setting('test.day')::date),
          pg_temp.users_between(pg_temp.week_of_day(), current_setting('test.day')::date),
          'a newer user new to the window counts');
select tests.clear_authentication();
update private.window_closed_bits c
   set bits = set_bit(c.bits, (i.id % 32768)::integer, 1)
  from analytics.person_ids i
 where i.person_id = current_setting('test.gina')
   and c.first_day = pg_temp.week_of_day() and c.last_day = current_setting('test.day')::date
   and c.page = i.id / 32768;
insert into private.window_closed_bits (first_day, last_day, page, bits)
select pg_temp.week_of_day(), current_setting('test.day')::date, i.id / 32768,
       private.page_bits(array[(i.id % 32768)::integer])
  from analytics.person_ids i
 where i.person_id = current_setting('test.gina')
on conflict do nothing;
select tests.authenticate_as(current_setting('test.sam')::uuid);
select is(pg_temp.window_users(pg_temp.week_of_day(), current_setting('test.day')::date),
          pg_temp.users_between(pg_temp.week_of_day(), current_setting('test.day')::date) - 1,
          'a newer user whose bit is set in the merged pages is not counted again');
select tests.clear_authentication();

-- Whatever they were computed from changes: they are not read any more. pg_temp.forged()
-- takes the job's rows again and adds 5 to the kept count, so that a count read shows;
-- pg_temp.exact() compares the series (which counts as before when the bitmaps cannot
-- answer) with the events.
create function pg_temp.forged() returns void language sql as $$
  select analytics.refresh_live_parts();
  update private.window_users set users = users + 5
   where first_day = pg_temp.week_of_day() and last_day = current_setting('test.day')::date;
$$;
create function pg_temp.exact() returns boolean language sql as $$
  select (select t.value from analytics.timeseries('weekly_active_users', current_setting('test.day')::date,
                                                   current_setting('test.day')::date) t)
         = pg_temp.users_between(pg_temp.week_of_day(), current_setting('test.day')::date)
$$;
grant execute on function pg_temp.exact() to public;
select pg_temp.forged();
select tests.authenticate_as(current_setting('test.sam')::uuid);
select ok(not pg_temp.exact(), 'a forged count shows while nothing changed');
select tests.clear_authentication();
select private.close_hour(current_setting('test.lo')::timestamptz + interval '2 hours');
select tests.authenticate_as(current_setting('test.sam')::uuid);
select ok(pg_temp.exact(), 'an hour of the day closed (its snapshot dropped, the sequence moved): not read');
select tests.clear_authentication();
select pg_temp.forged();
select analytics.refresh_live_parts();
select tests.authenticate_as(current_setting('test.sam')::uuid);
select ok(pg_temp.exact(), 'the next minute''s run replaces the count');
select tests.clear_authentication();
select private.close_hour(current_setting('test.lo')::timestamptz + interval '3 hours');
select private.close_hour(current_setting('test.lo')::timestamptz + interval '4 hours');
select private.close_hour(current_setting('test.lo')::timestamptz + interval '5 hours');
select analytics.refresh_live_parts();
select tests.authenticate_as(current_setting('test.sam')::uuid);
select ok(pg_temp.exact(), 'carol''s hour closed (a user new to the closed hours): built again, exact');
select tests.clear_authentication();
select pg_temp.forged();
select analytics.aggregate_day(current_setting('test.day')::date - 3);
select tests.authenticate_as(current_setting('test.sam')::uuid);
select ok(pg_temp.exact(), 'a closed day in the window closed again: not read');
select tests.clear_authentication();
select pg_temp.forged();
delete from private.user_day_bits where day = current_setting('test.day')::date - 3;
select tests.authenticate_as(current_setting('test.sam')::uuid);
select ok(pg_temp.exact(), 'a closed day''s bitmaps removed: not read');
select tests.clear_authentication();
select analytics.aggregate_day(current_setting('test.day')::date - 3);
select pg_temp.forged();
update private.trailing_user_bits set bits = bits where span = 1;
select tests.authenticate_as(current_setting('test.sam')::uuid);
select ok(pg_temp.exact(), 'the trailing ORs written: not read');
select tests.clear_authentication();
select pg_temp.forged();
update analytics.live_parts set taken_at = taken_at + interval '1 second'
 where day = current_setting('test.day')::date;
select tests.authenticate_as(current_setting('test.sam')::uuid);
select ok(pg_temp.exact(), 'the day''s snapshot is not the one counted: not read');
select tests.clear_authentication();
select ok((select count(*) from private.window_closed) > 0
          and (select bool_and(w.change_seen = (select q.last_value from private.window_changes q))
                 from private.window_closed w),
          'every write above moved the sequence; the job builds the merged pages at its value');

-- All 24 hours of the day closed (between 00:05 and the nightly job): no snapshot, its closed
-- hours' users are all its users; its windows are still kept, and exact.
select private.close_hour(current_setting('test.lo')::timestamptz + h * interval '1 hour')
  from generate_series(0, 23) as h;
select analytics.refresh_live_parts();
select ok(exists (select 1 from private.window_users w
                   where w.first_day = pg_temp.week_of_day() and w.last_day = current_setting('test.day')::date
                     and w.from_hours[array_position(w.open_days, current_setting('test.day')::date)] is null),
          'a day with all its hours closed: its windows kept, without a snapshot for it');
select tests.authenticate_as(current_setting('test.sam')::uuid);
select ok(pg_temp.exact(), 'and exact');
select tests.clear_authentication();
update private.window_users set users = users + 5
 where first_day = pg_temp.week_of_day() and last_day = current_setting('test.day')::date;
select tests.authenticate_as(current_setting('test.sam')::uuid);
select ok(not pg_temp.exact(), 'and read (a forged count shows)');
select tests.clear_authentication();
select analytics.refresh_live_parts();

-- A calendar week in the past whose days not closed (one run of them, here all but its
-- last) hold no signed-in user's event: the rollup's count of its closed days (erin's).
select set_config('test.week', date_trunc('week', current_setting('test.day')::date - 21)::date::text, true);
delete from analytics.aggregated_days
 where day between current_setting('test.week')::date and current_setting('test.week')::date + 6;
delete from public.events
 where "timestamp" >= current_setting('test.week')::date::timestamp at time zone 'UTC'
   and "timestamp" < (current_setting('test.week')::date + 7)::timestamp at time zone 'UTC';
insert into public.events (event_type, user_id, "timestamp")
values ('view', current_setting('test.erin')::uuid,
        (current_setting('test.week')::date + 6)::timestamp at time zone 'UTC' + interval '3 hours');
select analytics.aggregate_day(current_setting('test.week')::date + 6);
select tests.authenticate_as(current_setting('test.sam')::uuid);
select is(pg_temp.window_users(current_setting('test.week')::date, current_setting('test.week')::date + 6), 1::bigint,
          'a week with one closed day and nobody on the others: its closed day''s users');
select tests.clear_authentication();
update analytics.bucket_active_users set users = 7
 where bucket = 'week' and start = current_setting('test.week')::date;
select tests.authenticate_as(current_setting('test.sam')::uuid);
select is(pg_temp.window_users(current_setting('test.week')::date, current_setting('test.week')::date + 6), 7::bigint,
          'read from the rollup''s count (changed by hand here)');
select is((select t.value from analytics.timeseries('active_users', current_setting('test.week')::date,
                                                    current_setting('test.week')::date, 'week') t), 7::numeric,
          'as the series reads it');
select tests.clear_authentication();
insert into public.events (event_type, user_id, "timestamp")
values ('view', current_setting('test.bob')::uuid,
        (current_setting('test.week')::date + 4)::timestamp at time zone 'UTC' + interval '3 hours');
select tests.authenticate_as(current_setting('test.sam')::uuid);
select is((select t.value from analytics.timeseries('active_users', current_setting('test.week')::date,
                                                    current_setting('test.week')::date, 'week') t)::bigint,
          pg_temp.users_between(current_setting('test.week')::date, current_setting('test.week')::date + 6),
          'a signed-in user''s event on a day not closed: counted from the users, exactly');
select tests.clear_authentication();

-- Access: only superusers, analysts and the service role read what is kept.
select analytics.refresh_live_parts();
select tests.authenticate_as(current_setting('test.olive')::uuid);
select is((select count(*) from private.window_users) + (select count(*) from private.window_closed)
          + (select count(*) from private.window_closed_bits), 0::bigint,
  'an ordinary user reads nothing kept');
select tests.clear_authentication();
select tests.act_as('analyst');
select ok((select count(*) from private.window_users) > 0, 'an analyst reads the kept counts');
select tests.clear_authentication();
select tests.authenticate_as(current_setting('test.sam')::uuid);
select throws_ok($$select private.refresh_window_users()$$, '42501', null,
  'a signed-in user, even a superuser, cannot run private.refresh_window_users');
select tests.clear_authentication();

select * from finish();
rollback;
