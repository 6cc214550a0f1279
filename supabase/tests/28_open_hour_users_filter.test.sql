-- The filter of a day's closed-hour users (analytics.hourly_day_totals.users_filter): kept
-- equal to the set by private.close_hour as hours are added and closed again, consulted by
-- the reads (a clear bit skips the look-up), and a filter not built (null) still exact.
begin;
select plan(8);
select tests.share_pgtap_tables();

select set_config('test.alice', tests.create_user('alice@filter.test')::text, true);
select set_config('test.bob', tests.create_user('bob@filter.test')::text, true);
select set_config('test.carol', tests.create_user('carol@filter.test')::text, true);
select set_config('test.dave', tests.create_user('dave@filter.test')::text, true);
select set_config('test.sam', tests.create_user('sam@filter.test', true)::text, true);
select set_config('test.day', ((now() at time zone 'UTC')::date - 1)::text, true);
select set_config('test.lo', (current_setting('test.day')::date::timestamp at time zone 'UTC')::text, true);
-- The day is not closed by the nightly job here.
delete from analytics.aggregated_days where day = current_setting('test.day')::date;

-- alice at 01:00, bob at 02:00 (closed below), dave at 03:00 (closed later); at 05:00 (never
-- closed) alice again, carol, and someone anonymous.
insert into public.events (event_type, user_id, anonymous_id, "timestamp")
select 'page_view', v.u, v.a, current_setting('test.lo')::timestamptz + v.at
  from (values (current_setting('test.alice')::uuid, null, interval '1 hour 10 minutes'),
               (current_setting('test.bob')::uuid, null, interval '2 hours 10 minutes'),
               (current_setting('test.dave')::uuid, null, interval '3 hours 10 minutes'),
               (current_setting('test.alice')::uuid, null, interval '5 hours 10 minutes'),
               (current_setting('test.carol')::uuid, null, interval '5 hours 20 minutes'),
               (null, 'anon-1', interval '5 hours 30 minutes')) as v (u, a, at);

create function pg_temp.filter_is_the_set() returns boolean language sql as $$
  select t.users_filter = private.users_filter_add(
           array_fill(0::bigint, array[16384]),
           array(select du.user_id from analytics.hourly_day_users du where du.day = t.day))
    from analytics.hourly_day_totals t where t.day = current_setting('test.day')::date
$$;
create function pg_temp.active_users() returns numeric language sql as $$
  select value from analytics.timeseries('active_users', current_setting('test.day')::date,
                                         current_setting('test.day')::date, 'day')
$$;
grant execute on function pg_temp.active_users() to public;

select private.close_hour(current_setting('test.lo')::timestamptz + interval '1 hour');
select private.close_hour(current_setting('test.lo')::timestamptz + interval '2 hours');
select ok(pg_temp.filter_is_the_set(),
  'after an hour is added to the day''s set, its filter has exactly the bits of the set''s users');

select tests.authenticate_as(current_setting('test.sam')::uuid);
select is(pg_temp.active_users(), 4::numeric,
  'the day''s active users: alice and bob from the closed hours, carol and dave from the others, alice not twice');
select tests.clear_authentication();

-- A filter with no bit: alice, seen in a closed hour, is no longer looked up, so counted again.
update analytics.hourly_day_totals set users_filter = array_fill(0::bigint, array[16384])
 where day = current_setting('test.day')::date;
select tests.authenticate_as(current_setting('test.sam')::uuid);
select is(pg_temp.active_users(), 5::numeric,
  'the reads consult the filter: a clear bit skips the look-up (which is why close_hour keeps it whole)');
select tests.clear_authentication();

-- A filter not built: every user looked up, still exact.
update analytics.hourly_day_totals set users_filter = null where day = current_setting('test.day')::date;
select tests.authenticate_as(current_setting('test.sam')::uuid);
select is(pg_temp.active_users(), 4::numeric, 'a filter not built (null) looks every user up: still exact');
select tests.clear_authentication();

-- Adding an hour to a set whose filter is not built leaves it not built.
select private.close_hour(current_setting('test.lo')::timestamptz + interval '3 hours');
select ok((select users_filter is null from analytics.hourly_day_totals where day = current_setting('test.day')::date),
  'a filter not built stays so when an hour is added (it would miss the users added before)');
select tests.authenticate_as(current_setting('test.sam')::uuid);
select is(pg_temp.active_users(), 4::numeric, 'and dave, now in a closed hour, is counted once');
select tests.clear_authentication();

-- Closing an hour again rebuilds the set, and the filter with it.
select private.close_hour(current_setting('test.lo')::timestamptz + interval '1 hour');
select ok(pg_temp.filter_is_the_set(), 'closing an hour again builds the filter whole from the rebuilt set');
select tests.authenticate_as(current_setting('test.sam')::uuid);
select is(pg_temp.active_users(), 4::numeric, 'and the count stays exact');
select tests.clear_authentication();

select * from finish();
rollback;
