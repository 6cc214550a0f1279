-- =======================================================================================
-- Today's active users: the hours not closed in one range with its bounds known to the planner
-- =======================================================================================
-- 20261127100100_open_hour_users_filter.sql read the hours not closed of a day as runs of
-- consecutive hours, each scanned in a lateral subquery. Their bounds come from the rows of
-- analytics.closed_hours, so the planner cannot see them: it guesses about 12,000 events per
-- run, and the distinct over the open hour's users (about 3,000 at the 10 M rate) was
-- hashed twice into tables sized for that guess, several times the work of the scan itself.
--
-- Now for active users a first statement finds the day's first hour not closed and the
-- closed hours after it (none on an ordinary day: the hours close in order), and the events
-- are read in one range from that hour to midnight, those of the closed hours after it left
-- out. The bounds are parameters, so the planner sees their values and estimates the open
-- hour's events from the statistics. A closed hour after an open one (the hourly job missed
-- an hour and closed later ones) is read and left out, so the result stays exact; only that
-- day costs more.
--
-- Events per type go back to one scan per hour not closed, as in
-- 20261127004200_hourly_rollup.sql: grouping by event type is sized by the type's
-- statistics, not by the guess, and measured late in the simulated day the per-hour scans
-- cost less than the runs' gaps-and-islands step (the runs stay for the events total,
-- private.open_day_value). Same signature, arguments, results and comment as
-- 20261127100100.

create or replace function private.open_day_metrics(target_day date, only_metric text)
returns table (metric text, dimension text, value numeric)
language plpgsql
stable
set search_path = ''
set jit = off
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
    with open_users as (
      select distinct e.user_id
        from public.events e
       where e."timestamp" >= first_open and e."timestamp" < hi and e.user_id is not null
         and (cardinality(closed_after) = 0 or date_trunc('hour', e."timestamp", 'UTC') <> all (closed_after))
    )
    select 'active_users'::text, ''::text,
           (coalesce(closed_total, 0)
            + (select count(*) from open_users o
                -- One index probe per open-hour user whose bit is set in the day's filter
                -- (a clear bit: not among the users of the closed hours, no probe); a
                -- lateral with a limit stays a nested loop, where an anti-join would hash
                -- the day's whole set of users.
                left join lateral (
                  select true as seen from analytics.hourly_day_users du
                   where coalesce((users_filter[((pg_catalog.uuid_hash(o.user_id) & 1048575) >> 6) + 1]
                                   >> ((pg_catalog.uuid_hash(o.user_id) & 1048575) & 63)) & 1 <> 0, true)
                     and du.day = target_day and du.user_id = o.user_id
                   limit 1
                ) as s on true
               where s.seen is null))::numeric;
    return;
  end if;

  return query select c.metric, c.dimension, c.value from private.compute_day(target_day, only_metric) c;
end
$$;
