-- Events per type of a day not closed (private.open_day_metrics, read by analytics.breakdown
-- and analytics.timeseries): closed hours from the hourly rollup, every other hour from the
-- events (one scan per hour not closed), each event counted once whichever hours are closed.
-- The same for the day's events total (private.open_day_value, read by the events series; one
-- range from the first hour not closed since migration 20261127160000).
begin;
select plan(12);
select tests.share_pgtap_tables();

select set_config('test.sam', tests.create_user('sam@open-types.test', true)::text, true);
select set_config('test.day', ((now() at time zone 'UTC')::date - 1)::text, true);
select set_config('test.lo', (current_setting('test.day')::date::timestamp at time zone 'UTC')::text, true);
delete from analytics.aggregated_days where day = current_setting('test.day')::date;
-- The day alone (a seeded database has events on every recent day).
delete from public.events
 where "timestamp" >= current_setting('test.lo')::timestamptz
   and "timestamp" < current_setting('test.lo')::timestamptz + interval '1 day';
delete from analytics.hourly_events
 where hour >= current_setting('test.lo')::timestamptz and hour < current_setting('test.lo')::timestamptz + interval '1 day';
delete from analytics.closed_hours
 where hour >= current_setting('test.lo')::timestamptz and hour < current_setting('test.lo')::timestamptz + interval '1 day';

-- 00:10 a view, 01:10 and 01:20 two clicks, 02:10 a view, 05:10 a view and a click.
insert into public.events (event_type, anonymous_id, "timestamp")
select v.t, 'anon-types', current_setting('test.lo')::timestamptz + v.at
  from (values ('view', interval '10 minutes'), ('click', interval '1 hour 10 minutes'),
               ('click', interval '1 hour 20 minutes'), ('view', interval '2 hours 10 minutes'),
               ('view', interval '5 hours 10 minutes'), ('click', interval '5 hours 10 minutes')) as v (t, at);

create function pg_temp.per_type() returns text language sql as $$
  select string_agg(b.event_type || '=' || b.events, ' ' order by b.event_type)
    from analytics.breakdown(current_setting('test.day')::date, current_setting('test.day')::date) b
$$;
grant execute on function pg_temp.per_type() to public;
create function pg_temp.total() returns text language sql as $$
  select t.value::text
    from analytics.timeseries('events', current_setting('test.day')::date, current_setting('test.day')::date, 'day') t
$$;
grant execute on function pg_temp.total() to public;

select tests.authenticate_as(current_setting('test.sam')::uuid);
select is(pg_temp.per_type(), 'click=3 view=3', 'no hour closed: every hour read from the events');
select is(pg_temp.total(), '6', 'no hour closed: the total from the events');
select tests.clear_authentication();

-- 01:00 and 02:00 closed, 00:00 still open: the range starts at 00:00 and leaves them out.
select private.close_hour(current_setting('test.lo')::timestamptz + interval '1 hour');
select private.close_hour(current_setting('test.lo')::timestamptz + interval '2 hours');
select tests.authenticate_as(current_setting('test.sam')::uuid);
select is(pg_temp.per_type(), 'click=3 view=3', 'closed hours after an open one: still each event once');
select is(pg_temp.total(), '6', 'closed hours after an open one: the total counts each event once');
select tests.clear_authentication();
update analytics.hourly_events set events = 10
 where hour = current_setting('test.lo')::timestamptz + interval '1 hour' and event_type = 'click';
select tests.authenticate_as(current_setting('test.sam')::uuid);
select is(pg_temp.per_type(), 'click=11 view=3',
  'a closed hour after an open one is counted from the rollup, not read again from the events');
select is(pg_temp.total(), '14', 'the total too takes a closed hour after an open one from the rollup');
select tests.clear_authentication();

-- 00:00 closed too: the events are read from 03:00 on.
select private.close_hour(current_setting('test.lo')::timestamptz);
update analytics.hourly_events set events = 7
 where hour = current_setting('test.lo')::timestamptz and event_type = 'view';
select tests.authenticate_as(current_setting('test.sam')::uuid);
select is(pg_temp.per_type(), 'click=11 view=9', 'the closed hours before the first open one come from the rollup');
select is(pg_temp.total(), '20', 'the total takes the closed hours before the first open one from the rollup');
select tests.clear_authentication();

-- Every hour closed: nothing is read from the events.
select private.close_hour(current_setting('test.lo')::timestamptz + g.i * interval '1 hour')
  from generate_series(3, 23) as g (i);
delete from public.events where "timestamp" >= current_setting('test.lo')::timestamptz + interval '5 hours'
   and "timestamp" < current_setting('test.lo')::timestamptz + interval '6 hours';
select tests.authenticate_as(current_setting('test.sam')::uuid);
select is(pg_temp.per_type(), 'click=11 view=9', 'all 24 hours closed: the rollup alone (the events of 05:00 are gone)');
select is(pg_temp.total(), '20', 'all 24 hours closed: the total from the rollup alone');
select tests.clear_authentication();

-- The live part's reads are small: no parallel workers (20261127120000_open_day_serial.sql).
select ok((select bool_and('max_parallel_workers_per_gather=0' = any (p.proconfig))
             from pg_proc p
            where p.oid in ('private.open_day_metrics(date, text)'::regprocedure,
                            'private.open_day_value(date, text, text)'::regprocedure)),
  'the live part runs without parallel workers, whoever calls it');
select ok((select bool_and(p.prolang = (select l.oid from pg_language l where l.lanname = 'plpgsql') and p.prosecdef
                           and p.proconfig = array['search_path=""'])
             from pg_proc p
            where p.oid in ('private.is_superuser()'::regprocedure, 'private.is_analyst()'::regprocedure)),
  'the policies'' checks are PL/pgSQL (planned once per session), security definer, with an empty search_path');

select * from finish();
rollback;
