-- The minute snapshot of a day's hours not closed (analytics.refresh_live_parts, migration
-- 20261127180000): what it counts, that readers use it and add the events of the
-- transactions it left out, and that it is dropped or ignored once the day's closed hours
-- change. Every answer is checked against the events themselves.
--
-- Everything here runs in one transaction, whose own events have txid >= the snapshot's
-- bound (it is running): they are the "newer" events read live. Events of finished older
-- transactions are stood in for by rows inserted with an old txid (1).
begin;
select plan(20);
select tests.share_pgtap_tables();
-- pg_cron runs the jobs in this database: their locks for the whole test (a minute run
-- started meanwhile leaves the work to ours; an hourly or nightly one waits for the end).
select pg_advisory_xact_lock(hashtext('beacon.refresh_live_parts'));
select pg_advisory_xact_lock(hashtext('beacon.run_hourly_rollup'));
select pg_advisory_xact_lock(hashtext('beacon.run_daily_aggregation'));

select set_config('test.alice', tests.create_user('alice@live-part.test')::text, true);
select set_config('test.bob', tests.create_user('bob@live-part.test')::text, true);
select set_config('test.carol', tests.create_user('carol@live-part.test')::text, true);
select set_config('test.dave', tests.create_user('dave@live-part.test')::text, true);
select set_config('test.erin', tests.create_user('erin@live-part.test')::text, true);
select set_config('test.olive', tests.create_user('olive@live-part.test')::text, true);
select set_config('test.sam', tests.create_user('sam@live-part.test', true)::text, true);
select set_config('test.day', ((now() at time zone 'UTC')::date - 1)::text, true);
select set_config('test.lo', (current_setting('test.day')::date::timestamp at time zone 'UTC')::text, true);
-- The day alone, not closed by the nightly job.
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

-- Hours 00 and 01 (closed below): alice, erin, a view by someone anonymous.
insert into public.events (event_type, user_id, anonymous_id, "timestamp", txid)
select v.t, v.u, v.a, current_setting('test.lo')::timestamptz + v.at, '1'::xid8
  from (values ('view', current_setting('test.alice')::uuid, null, interval '10 minutes'),
               ('click', current_setting('test.erin')::uuid, null, interval '1 hour 10 minutes'),
               ('view', null, 'anon-1', interval '1 hour 20 minutes')) as v (t, u, a, at);
-- Hours 02-05, of finished transactions (in the snapshot): alice again, bob, carol.
insert into public.events (event_type, user_id, anonymous_id, "timestamp", txid)
select v.t, v.u, v.a, current_setting('test.lo')::timestamptz + v.at, '1'::xid8
  from (values ('view', current_setting('test.alice')::uuid, null, interval '2 hours 10 minutes'),
               ('click', current_setting('test.bob')::uuid, null, interval '3 hours 10 minutes'),
               ('view', current_setting('test.carol')::uuid, null, interval '5 hours 10 minutes'),
               ('signup', null, 'anon-2', interval '5 hours 20 minutes')) as v (t, u, a, at);

select private.close_hour(current_setting('test.lo')::timestamptz);
select private.close_hour(current_setting('test.lo')::timestamptz + interval '1 hour');
select ok(analytics.refresh_live_parts() >= 1, 'the job takes the days not closed');
select is((select row(l.from_hour, l.events, l.new_users)::text from analytics.live_parts l
            where l.day = current_setting('test.day')::date),
          row(current_setting('test.lo')::timestamptz + interval '2 hours', 4::bigint, 2::bigint)::text,
          'the day''s snapshot: from its first hour not closed, 4 events, 2 users not among the closed hours'' (bob, carol; alice was)');
select is((select string_agg(le.event_type || '=' || le.events, ' ' order by le.event_type) from analytics.live_part_events le
            where le.day = current_setting('test.day')::date),
          'click=1 signup=1 view=2', 'its events per type');

-- Newer events (this transaction's): carol again (in the snapshot), dave (new), erin (in a
-- closed hour), one anonymous.
insert into public.events (event_type, user_id, anonymous_id, "timestamp")
select v.t, v.u, v.a, current_setting('test.lo')::timestamptz + v.at
  from (values ('click', current_setting('test.carol')::uuid, null, interval '6 hours 10 minutes'),
               ('view', current_setting('test.dave')::uuid, null, interval '7 hours 10 minutes'),
               ('view', current_setting('test.erin')::uuid, null, interval '23 hours 50 minutes'),
               ('click', null, 'anon-3', interval '4 hours')) as v (t, u, a, at);

create function pg_temp.answers() returns text language sql as $$
  select (select t.value from analytics.timeseries('events', current_setting('test.day')::date,
                                                   current_setting('test.day')::date, 'day') t)::text
         || ' ' || (select t.value from analytics.timeseries('active_users', current_setting('test.day')::date,
                                                            current_setting('test.day')::date, 'day') t)::text
         || ' ' || (select string_agg(b.event_type || '=' || b.events, ' ' order by b.event_type)
                      from analytics.breakdown(current_setting('test.day')::date, current_setting('test.day')::date) b)
$$;
grant execute on function pg_temp.answers() to public;
-- The same from the events themselves (as the test's superuser, no rollup at all).
create function pg_temp.expected() returns text language sql as $$
  select (select count(*) from public.events e
           where e."timestamp" >= current_setting('test.lo')::timestamptz
             and e."timestamp" < current_setting('test.lo')::timestamptz + interval '1 day')::text
         || ' ' || (select count(distinct e.user_id) from public.events e
                     where e."timestamp" >= current_setting('test.lo')::timestamptz
                       and e."timestamp" < current_setting('test.lo')::timestamptz + interval '1 day')::text
         || ' ' || (select string_agg(x.event_type || '=' || x.n, ' ' order by x.event_type)
                      from (select e.event_type, count(*) as n from public.events e
                             where e."timestamp" >= current_setting('test.lo')::timestamptz
                               and e."timestamp" < current_setting('test.lo')::timestamptz + interval '1 day'
                             group by e.event_type) x)
$$;
select is(pg_temp.expected(), '11 5 click=4 signup=1 view=6', 'the day from the events: 11 events, 5 users');

select tests.authenticate_as(current_setting('test.sam')::uuid);
select is(pg_temp.answers(), '11 5 click=4 signup=1 view=6',
  'a superuser reads the closed hours, the snapshot and the newer events: each event and user once');
select tests.clear_authentication();

-- The readers use the snapshot: a forged count shows.
update analytics.live_parts set events = events + 1000, new_users = new_users + 100
 where day = current_setting('test.day')::date;
update analytics.live_part_events set events = events + 1000
 where day = current_setting('test.day')::date and event_type = 'view';
select tests.authenticate_as(current_setting('test.sam')::uuid);
select is(pg_temp.answers(), '1011 105 click=4 signup=1 view=1006',
  'the events total, active users and events per type come from the snapshot (forged here)');
select tests.clear_authentication();

-- A snapshot whose first hour no longer matches the day's closed hours is ignored.
update analytics.live_parts set from_hour = from_hour + interval '1 hour'
 where day = current_setting('test.day')::date;
select tests.authenticate_as(current_setting('test.sam')::uuid);
select is(pg_temp.answers(), pg_temp.expected(),
  'a snapshot not matching the closed hours is not read: the live part is computed from the events');
select tests.clear_authentication();

-- The closed hours' set of users gone after the snapshot (a day the nightly job closed,
-- reopened by hand): active users are not read from the snapshot, and the job takes none.
select analytics.refresh_live_parts();
delete from analytics.hourly_day_users where day = current_setting('test.day')::date;
delete from analytics.hourly_day_totals where day = current_setting('test.day')::date;
select tests.authenticate_as(current_setting('test.sam')::uuid);
select is(pg_temp.answers(), pg_temp.expected(),
  'closed hours without their set of users: active users read as before, not from the snapshot');
select tests.clear_authentication();
select analytics.refresh_live_parts();
select ok(not exists (select 1 from analytics.live_parts where day = current_setting('test.day')::date),
  'and no snapshot is taken for such a day');
-- Closing an hour again rebuilds the set.
select private.close_hour(current_setting('test.lo')::timestamptz + interval '1 hour');

-- Taken again, then an hour closed: the day's snapshot goes (trigger), answers stay exact.
select analytics.refresh_live_parts();
select ok(exists (select 1 from analytics.live_parts where day = current_setting('test.day')::date),
  'taken again');
select private.close_hour(current_setting('test.lo')::timestamptz + interval '2 hours');
select ok(not exists (select 1 from analytics.live_parts where day = current_setting('test.day')::date),
  'closing an hour of the day drops its snapshot (and its rows: cascade)');
select ok(not exists (select 1 from analytics.live_part_users where day = current_setting('test.day')::date),
  'its users go with it');
select tests.authenticate_as(current_setting('test.sam')::uuid);
select is(pg_temp.answers(), pg_temp.expected(), 'without a snapshot: exact as before');
select tests.clear_authentication();

-- A closed hour after the first one not closed (03 is now the first not closed; 05 gets
-- closed): no snapshot is taken for the day.
select private.close_hour(current_setting('test.lo')::timestamptz + interval '5 hours');
select analytics.refresh_live_parts();
select ok(not exists (select 1 from analytics.live_parts where day = current_setting('test.day')::date),
  'a day with a closed hour after its first hour not closed gets no snapshot');
select tests.authenticate_as(current_setting('test.sam')::uuid);
select is(pg_temp.answers(), pg_temp.expected(), 'and reads exactly');
select tests.clear_authentication();

-- The day's subscription metrics, kept by the job while no subscription changes: read (a
-- forged value shows), then stale once one does (computed as before, exactly).
create function pg_temp.subscriptions_metric() returns numeric language sql as $$
  select t.value from analytics.timeseries('active_subscriptions', current_setting('test.day')::date,
                                           current_setting('test.day')::date, 'day') t
$$;
grant execute on function pg_temp.subscriptions_metric() to public;
select set_config('test.paying', (select c.value from private.compute_day(current_setting('test.day')::date, 'active_subscriptions') c
                                   where c.dimension = '')::text, true);
update private.open_day_subscription_metrics set value = value + 1000
 where day = current_setting('test.day')::date and metric = 'active_subscriptions' and dimension = '';
select tests.authenticate_as(current_setting('test.sam')::uuid);
select is(pg_temp.subscriptions_metric(), current_setting('test.paying')::numeric + 1000,
  'a day''s subscription metrics come from what the job keeps (forged here)');
select tests.clear_authentication();
insert into public.subscriptions (user_id, plan, amount_cents, started_at)
values (current_setting('test.alice')::uuid, 'pro', 4900, current_setting('test.lo')::timestamptz - interval '3 days');
select tests.authenticate_as(current_setting('test.sam')::uuid);
select is(pg_temp.subscriptions_metric(),
          (select c.value from private.compute_day(current_setting('test.day')::date, 'active_subscriptions') c where c.dimension = ''),
  'a subscription written since: what the job kept is stale and not read; computed as before');
select tests.clear_authentication();

-- Access: as the hourly tables; only the service role runs the job.
select analytics.refresh_live_parts();
select tests.authenticate_as(current_setting('test.olive')::uuid);
select is((select count(*) from analytics.live_parts) + (select count(*) from analytics.live_part_users)
          + (select count(*) from analytics.live_part_events) + (select count(*) from private.live_part_bits)
          + (select count(*) from private.open_day_subscriptions)
          + (select count(*) from private.open_day_subscription_metrics), 0::bigint,
  'an ordinary user reads no snapshot');
select throws_ok('select analytics.refresh_live_parts()', '42501', null,
  'a signed-in user cannot run the job');
select tests.clear_authentication();
select ok(has_function_privilege('service_role', 'analytics.refresh_live_parts()', 'execute'),
  'the service role can');

select * from finish();
rollback;
