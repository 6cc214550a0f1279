-- =======================================================================================
-- Today's live part: the events total of a day not closed in one range, the access checks
-- planned once per session
-- =======================================================================================
-- Issue 11's target: any 90-day dashboard query p50 < 5 ms at 10 M events late in a day.
-- The four queries measured 3.7-5.2 ms in the full bench. Profiled as a superuser through
-- RLS on a kept 10 M database (auto_explain, nested statements):
--
--   * every statement that reads a table under row-level security evaluates its policies'
--     private.is_superuser() (and, for analysts, private.is_analyst()) once, and SQL
--     functions that are not inlined (these are security definer) are planned again at
--     each call, several times per dashboard query. As PL/pgSQL functions their statement
--     is planned once per session and kept. Same results, same attributes (security
--     definer, stable, search_path empty), same grants and comments.
--   * the events total of a day not closed (private.open_day_value, read by the events
--     series) grouped the day's hours not closed into runs (a window function over the 24
--     hours) and scanned each run: for a day with no closed hour (today early on, or any day
--     the hourly job has not reached) 0.9 ms with no events at all. Now it counts from the
--     day's first hour not closed to midnight in one range, the closed hours after it (none
--     on an ordinary day) left out, as active users already did (migration 20261127100200).
--     Events per type keep one scan per hour not closed: read in one range and grouped, the
--     breakdown measured 0.6 ms slower (interleaved runs, same answers).
--   * a day's active users looked each open-hour user whose bit is set in the day's filter up
--     in analytics.hourly_day_users with its own lateral probe (about 1,600 at the 10 M rate);
--     now they are looked up together, in one index scan with = any (array), and subtracted.
--
-- Interleaved runs on the kept database (8 rounds of 10 per query, same answers checked),
-- before the active users change: events by day 4.27 -> 3.55 ms, by week 4.28 -> 3.12 ms,
-- breakdown 4.00 -> 3.76 ms, active users 4.57 -> 4.64 ms (the PL/pgSQL checks in both). The
-- active users change was measured by bench/remeasure.ts liveHours only (BENCHMARKS.md).
--
-- private.open_day_metrics and private.open_day_value keep their signatures, results and
-- comments, and their settings (search_path, jit off, no parallel workers: migration
-- 20261127120000); open_day_metrics's events per type are as in 20261127100200.

create or replace function private.is_superuser()
returns boolean
language plpgsql
stable
security definer
set search_path = ''
as $$
begin
  return coalesce((select p.is_superuser from public.profiles p where p.id = (select auth.uid())), false);
end
$$;

create or replace function private.is_analyst()
returns boolean
language plpgsql
stable
security definer
set search_path = ''
as $$
begin
  return coalesce((select p.is_analyst from public.profiles p where p.id = (select auth.uid())), false);
end
$$;

-- ---------------------------------------------------------------------------------------
-- private.open_day_metrics
-- ---------------------------------------------------------------------------------------
create or replace function private.open_day_metrics(target_day date, only_metric text)
returns table (metric text, dimension text, value numeric)
language plpgsql
stable
set search_path = ''
set jit = off
set max_parallel_workers_per_gather = 0
as $$
#variable_conflict use_column
declare
  lo timestamptz := target_day::timestamp at time zone 'UTC';
  hi timestamptz := (target_day + 1)::timestamp at time zone 'UTC';
  closed_total bigint;
  users_filter bigint[];
  first_open timestamptz;
  closed_after timestamptz[];
begin
  if target_day is null or only_metric is null then
    raise exception 'private.open_day_metrics: target_day and only_metric must not be null' using errcode = '22004';
  end if;

  if only_metric = 'events' then
    return query
    with hours as (
      select lo + g.i * interval '1 hour' as hour_lo,
             lo + (g.i + 1) * interval '1 hour' as hour_hi,
             exists (select 1 from analytics.closed_hours c where c.hour = lo + g.i * interval '1 hour') as closed
        from generate_series(0, 23) as g (i)
      offset 0 -- bounds computed here: a plain index range below, under RLS too
    ),
    by_type as (
      select he.event_type, he.events::numeric as n
        from hours h
        join analytics.hourly_events he on he.hour = h.hour_lo
       where h.closed
      union all
      select l.event_type, l.n
        from hours h
        cross join lateral (
          select e.event_type, count(*)::numeric as n
            from public.events e
           where e."timestamp" >= h.hour_lo and e."timestamp" < h.hour_hi
           group by e.event_type
        ) as l
       where not h.closed
    ),
    totals as (
      select t.event_type, sum(t.n) as n from by_type t group by t.event_type
    )
    select 'events'::text, ''::text, coalesce(sum(t.n), 0) from totals t
    union all
    select 'events'::text, t.event_type, t.n from totals t;
    return;
  end if;

  if only_metric = 'active_users' then
    -- The filter copied out of its row (array_cat returns it whole, detoasted), so that
    -- each look-up below reads it in memory rather than detoasting it again; one not built
    -- (null, or not of its length) stays null: every user is looked up.
    select dt.active_users,
           case when array_length(dt.users_filter, 1) = 16384 then dt.users_filter || '{}'::bigint[] end
      into closed_total, users_filter
      from analytics.hourly_day_totals dt where dt.day = target_day;
    -- A closed hour counts when the day's set of users has it (it has a total).
    -- The first hour not closed (null: all 24 closed) and the closed hours after it.
    if closed_total is null then
      first_open := lo;
      closed_after := '{}';
    else
      select f.first_open,
             coalesce((select array_agg(c.hour) from analytics.closed_hours c
                        where c.hour > f.first_open and c.hour < hi), '{}')
        into first_open, closed_after
        from (select min(lo + g.i * interval '1 hour') as first_open
                from generate_series(0, 23) as g (i)
               where not exists (select 1 from analytics.closed_hours c where c.hour = lo + g.i * interval '1 hour')) as f;
    end if;

    return query
    with open_users as materialized (
      select distinct e.user_id
        from public.events e
       where e."timestamp" >= first_open and e."timestamp" < hi and e.user_id is not null
         and (cardinality(closed_after) = 0 or date_trunc('hour', e."timestamp", 'UTC') <> all (closed_after))
    )
    select 'active_users'::text, ''::text,
           (coalesce(closed_total, 0)
            + (select count(*) from open_users)
            -- Less those already among the closed hours' users ((day, user_id) is unique):
            -- only the users whose bit is set in the day's filter can be (a clear bit: not
            -- among them), looked up together in one index scan rather than one lateral probe
            -- each.
            - (select count(*) from analytics.hourly_day_users du
                where du.day = target_day
                  and du.user_id = any (array(
                        select o.user_id from open_users o
                         where coalesce((users_filter[((pg_catalog.uuid_hash(o.user_id) & 1048575) >> 6) + 1]
                                         >> ((pg_catalog.uuid_hash(o.user_id) & 1048575) & 63)) & 1 <> 0, true)))))::numeric;
    return;
  end if;

  return query select c.metric, c.dimension, c.value from private.compute_day(target_day, only_metric) c;
end
$$;

-- ---------------------------------------------------------------------------------------
-- private.open_day_value
-- ---------------------------------------------------------------------------------------
create or replace function private.open_day_value(target_day date, only_metric text, only_dimension text)
returns numeric
language plpgsql
stable
set search_path = ''
set jit = off
set max_parallel_workers_per_gather = 0
as $$
declare
  lo timestamptz := target_day::timestamp at time zone 'UTC';
  hi timestamptz := (target_day + 1)::timestamp at time zone 'UTC';
  first_open timestamptz;
  closed_after timestamptz[];
  result numeric;
begin
  if target_day is null or only_metric is null or only_dimension is null then
    raise exception 'private.open_day_value: target_day, only_metric and only_dimension must not be null'
      using errcode = '22004';
  end if;
  if only_metric = 'events' and only_dimension = '' then
    -- All events: the closed hours' totals, and a count of the others' events in one range
    -- (no grouping by type: the index alone may answer).
    -- The first hour not closed (null: all 24 closed) and the closed hours after it.
    select f.first_open,
           coalesce((select array_agg(c.hour) from analytics.closed_hours c
                      where c.hour > f.first_open and c.hour < hi), '{}')
      into first_open, closed_after
      from (select min(lo + g.i * interval '1 hour') as first_open
              from generate_series(0, 23) as g (i)
             where not exists (select 1 from analytics.closed_hours c where c.hour = lo + g.i * interval '1 hour')) as f;
    select coalesce((select sum(he.events) from analytics.hourly_events he
                      where he.hour >= lo and he.hour < hi
                        and exists (select 1 from analytics.closed_hours c where c.hour = he.hour)), 0)
           + coalesce((select count(*) from public.events e
                        where first_open is not null
                          and e."timestamp" >= first_open and e."timestamp" < hi
                          and (cardinality(closed_after) = 0
                               or date_trunc('hour', e."timestamp", 'UTC') <> all (closed_after))), 0)
      into result;
    return result;
  end if;
  select c.value into result
    from private.open_day_metrics(target_day, only_metric) c
   where c.dimension = only_dimension;
  return coalesce(result, 0);
end
$$;
