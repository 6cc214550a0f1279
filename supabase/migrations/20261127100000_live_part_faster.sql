-- =======================================================================================
-- Today's live part, cheaper: one scan per run of hours not closed, the day once
-- =======================================================================================
-- Measured late in a simulated day (bench/live.ts: 19 hours closed, the open hour live, at
-- the 10 M rate), the 90-day dashboard reads spent their time here, not in the 89 closed
-- days:
--
--   * private.open_day_metrics scanned the events once per hour not closed: 24 index scans
--     for a day with no closed hour (a day with no events yet, such as today at 00:30) and
--     5 for a day at 19:00, each with its own start-up, partition pruning and aggregate;
--   * analytics.timeseries evaluated the value of a day twice for metrics that are not
--     sums (active_users): its per-day expression appeared in two aggregates once the
--     planner inlined the CTE, so a day not closed was computed twice;
--   * a day's events total grouped the open hour by event type (a heap visit per event)
--     only to add the groups up;
--   * analytics.timeseries and analytics.breakdown looked each closed day up in
--     analytics.aggregated_days and analytics.daily_metrics in two correlated subqueries
--     per day (180 index probes for 90 days).
--
-- Now the hours not closed of a day are read as runs of consecutive hours [lo, hi), one
-- index range scan each (one run late in a day: from the open hour to midnight); the
-- events total of a day not closed is a count over those runs; the per-day values are
-- computed once (a materialized CTE); closed days are one range read of the rollup.
-- Results are identical: the same rows are counted, only fewer times and in fewer scans.
--
-- Same signatures, arguments, results and comments for private.open_day_metrics,
-- analytics.timeseries and analytics.breakdown; one new helper, private.open_day_value (one
-- metric and dimension of a day not closed, as one number).

-- ---------------------------------------------------------------------------------------
-- private.open_day_metrics: as in 20261127004200_hourly_rollup.sql, the hours not closed
-- read as runs
-- ---------------------------------------------------------------------------------------
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
begin
  if target_day is null or only_metric is null then
    raise exception 'private.open_day_metrics: target_day and only_metric must not be null' using errcode = '22004';
  end if;

  if only_metric = 'events' then
    return query
    with closed as materialized (
      select c.hour from analytics.closed_hours c where c.hour >= lo and c.hour < hi
    ),
    runs as (
      -- The hours not closed, as runs of consecutive hours (gaps and islands): one index
      -- range scan each below, bounds computed here so that under RLS the range is a plain
      -- comparison the index can serve.
      select lo + min(h.i) * interval '1 hour' as run_lo,
             lo + (max(h.i) + 1) * interval '1 hour' as run_hi
        from (select g.i, g.i - row_number() over (order by g.i) as run
                from generate_series(0, 23) as g (i)
               where not exists (select 1 from closed c where c.hour = lo + g.i * interval '1 hour')) as h
       group by h.run
      offset 0
    ),
    by_type as (
      select he.event_type, he.events::numeric as n
        from analytics.hourly_events he
       where he.hour >= lo and he.hour < hi
         and exists (select 1 from closed c where c.hour = he.hour)
      union all
      select l.event_type, l.n
        from runs r
        cross join lateral (
          select e.event_type, count(*)::numeric as n
            from public.events e
           where e."timestamp" >= r.run_lo and e."timestamp" < r.run_hi
           group by e.event_type
        ) as l
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
    -- A closed hour counts when the day's set of users has it (it has a total).
    select dt.active_users into closed_total from analytics.hourly_day_totals dt where dt.day = target_day;
    return query
    with closed as materialized (
      select c.hour from analytics.closed_hours c
       where closed_total is not null and c.hour >= lo and c.hour < hi
    ),
    runs as (
      select lo + min(h.i) * interval '1 hour' as run_lo,
             lo + (max(h.i) + 1) * interval '1 hour' as run_hi
        from (select g.i, g.i - row_number() over (order by g.i) as run
                from generate_series(0, 23) as g (i)
               where not exists (select 1 from closed c where c.hour = lo + g.i * interval '1 hour')) as h
       group by h.run
      offset 0
    ),
    open_users as (
      select distinct e.user_id
        from runs r
        cross join lateral (
          select distinct ev.user_id from public.events ev  -- distinct: a scan per run
           where ev."timestamp" >= r.run_lo and ev."timestamp" < r.run_hi and ev.user_id is not null
        ) as e
    )
    select 'active_users'::text, ''::text,
           (coalesce(closed_total, 0)
            + (select count(*) from open_users o
                -- One index probe per open-hour user (a lateral with a limit stays a nested
                -- loop; an anti-join would hash the day's whole set of users).
                left join lateral (
                  select true as seen from analytics.hourly_day_users du
                   where du.day = target_day and du.user_id = o.user_id
                   limit 1
                ) as s on true
               where s.seen is null))::numeric;
    return;
  end if;

  return query select c.metric, c.dimension, c.value from private.compute_day(target_day, only_metric) c;
end
$$;

-- ---------------------------------------------------------------------------------------
-- private.open_day_value: one metric and dimension of a day not closed
-- ---------------------------------------------------------------------------------------
create function private.open_day_value(target_day date, only_metric text, only_dimension text)
returns numeric
language plpgsql
stable
set search_path = ''
set jit = off
as $$
declare
  lo timestamptz := target_day::timestamp at time zone 'UTC';
  hi timestamptz := (target_day + 1)::timestamp at time zone 'UTC';
  result numeric;
begin
  if target_day is null or only_metric is null or only_dimension is null then
    raise exception 'private.open_day_value: target_day, only_metric and only_dimension must not be null'
      using errcode = '22004';
  end if;

  if only_metric = 'events' and only_dimension = '' then
    -- All events: the closed hours' totals, and a count over the runs of the other hours
    -- (no grouping by type: the index alone may answer).
    with closed as materialized (
      select c.hour from analytics.closed_hours c where c.hour >= lo and c.hour < hi
    ),
    runs as (
      select lo + min(h.i) * interval '1 hour' as run_lo,
             lo + (max(h.i) + 1) * interval '1 hour' as run_hi
        from (select g.i, g.i - row_number() over (order by g.i) as run
                from generate_series(0, 23) as g (i)
               where not exists (select 1 from closed c where c.hour = lo + g.i * interval '1 hour')) as h
       group by h.run
      offset 0
    )
    select coalesce((select sum(he.events) from analytics.hourly_events he
                      where he.hour >= lo and he.hour < hi
                        and exists (select 1 from closed c where c.hour = he.hour)), 0)
           + coalesce((select sum(l.n) from runs r
                        cross join lateral (
                          select count(*) as n from public.events e
                           where e."timestamp" >= r.run_lo and e."timestamp" < r.run_hi
                        ) as l), 0)
      into result;
    return result;
  end if;

  select c.value into result
    from private.open_day_metrics(target_day, only_metric) c
   where c.dimension = only_dimension;
  return coalesce(result, 0);
end
$$;
comment on function private.open_day_value(date, text, text) is
  'One metric (only_metric) and dimension (only_dimension, '''' for the total) of a UTC day the nightly job has not closed, as the caller sees it, 0 when there is none: the events total from the closed hours in the hourly rollup plus a count of the other hours'' events; anything else as private.open_day_metrics computes it.';
revoke all on function private.open_day_value(date, text, text) from public, anon, authenticated, service_role, analyst;
-- The read functions run as the caller and call it.
grant execute on function private.open_day_value(date, text, text) to authenticated, service_role, analyst;

-- ---------------------------------------------------------------------------------------
-- analytics.timeseries: as in 20261127004200_hourly_rollup.sql; closed days in one read of
-- the rollup, each day not closed computed once
-- ---------------------------------------------------------------------------------------
create or replace function analytics.timeseries(
  metric text,
  from_day date,
  to_day date,
  bucket text default 'day',
  dimension text default ''
)
returns table (bucket_start date, value numeric)
language plpgsql
stable
set search_path = ''
set jit = off
as $$
#variable_conflict use_column
declare
  metric_kind text;
  today date := (now() at time zone 'UTC')::date;
begin
  if timeseries.metric is null or from_day is null or to_day is null or bucket is null
     or timeseries.dimension is null then
    raise exception 'analytics.timeseries: metric, from_day, to_day, bucket and dimension must not be null'
      using errcode = '22004';
  end if;
  select md.kind into metric_kind from analytics.metric_definitions md where md.metric = timeseries.metric;
  if metric_kind is null then
    raise exception 'analytics.timeseries: unknown metric "%"', timeseries.metric
      using errcode = '22023',
            hint = 'Use one of: ' || (select string_agg(md.metric, ', ' order by md.metric) from analytics.metric_definitions md) || '.';
  end if;
  if bucket not in ('day', 'week', 'month') then
    raise exception 'analytics.timeseries: unknown bucket "%"', bucket
      using errcode = '22023', hint = 'Use day, week or month.';
  end if;
  if from_day > to_day then
    raise exception 'analytics.timeseries: from_day (%) is after to_day (%)', from_day, to_day
      using errcode = '22023';
  end if;
  if to_day - from_day > 3660 then
    raise exception 'analytics.timeseries: the range from % to % is longer than 10 years', from_day, to_day
      using errcode = '22023', hint = 'Ask for at most 3661 days at a time.';
  end if;

  if metric_kind = 'distinct' and bucket <> 'day' then
    -- Distinct users over each whole calendar bucket: from the rollup when every day of it
    -- is closed, computed live otherwise (the current week or month).
    return query
    with buckets as (
      select distinct date_trunc(timeseries.bucket, (from_day + g.i)::timestamp)::date as start
        from generate_series(0, to_day - from_day) as g (i)
    )
    select b.start,
           case
             when b.start > today then 0::numeric
             when (select count(*) from analytics.aggregated_days a
                    where a.day >= b.start and a.day < (b.start + ('1 ' || timeseries.bucket)::interval)::date)
                  = (b.start + ('1 ' || timeseries.bucket)::interval)::date - b.start
               then coalesce((select c.users::numeric from analytics.bucket_active_users c
                               where c.bucket = timeseries.bucket and c.start = b.start), 0)
             else (select count(*)::numeric
                     from (select ud.user_id
                             from private.user_days(b.start, least((b.start + ('1 ' || timeseries.bucket)::interval)::date - 1, today)) ud
                            group by ud.user_id) as distinct_users)
           end
      from buckets b
     order by b.start;
    return;
  end if;

  return query
  with closed_days as (
    -- The closed days of the range with their value (0 when the rollup has no row): one
    -- range read of each table.
    select a.day, coalesce(dm.value, 0) as value
      from analytics.aggregated_days a
      left join (
        select dm.day, dm.value
          from analytics.daily_metrics dm
         where dm.metric = timeseries.metric and dm.dimension = timeseries.dimension
           and dm.day between from_day and to_day
      ) as dm on dm.day = a.day
     where a.day between from_day and least(to_day, today)
  ),
  per_day as materialized (
    -- Materialized: each day's value computed once, though both aggregates below read it.
    select d.day,
           case
             when d.day > today then null
             when c.day is not null then c.value
             else private.open_day_value(d.day, timeseries.metric, timeseries.dimension)
           end as value
      from (select from_day + g.i as day from generate_series(0, to_day - from_day) as g (i)) as d
      left join closed_days c on c.day = d.day
  )
  select date_trunc(bucket, p.day::timestamp)::date,
         case when metric_kind = 'sum' then coalesce(sum(p.value), 0)
              else coalesce((array_agg(p.value order by p.day desc) filter (where p.value is not null))[1], 0)
         end
    from per_day p
   group by 1
   order by 1;
end
$$;

-- ---------------------------------------------------------------------------------------
-- analytics.breakdown: as in 20261127004200_hourly_rollup.sql; closed days in one read of
-- the rollup
-- ---------------------------------------------------------------------------------------
create or replace function analytics.breakdown(from_day date, to_day date, top integer default 10)
returns table (event_type text, events numeric, share numeric)
language plpgsql
stable
set search_path = ''
set jit = off
as $$
#variable_conflict use_column
declare
  today date := (now() at time zone 'UTC')::date;
begin
  if from_day is null or to_day is null or top is null then
    raise exception 'analytics.breakdown: from_day, to_day and top must not be null' using errcode = '22004';
  end if;
  if from_day > to_day then
    raise exception 'analytics.breakdown: from_day (%) is after to_day (%)', from_day, to_day
      using errcode = '22023';
  end if;
  if top < 1 or top > 1000 then
    raise exception 'analytics.breakdown: top must be between 1 and 1000, not %', top using errcode = '22023';
  end if;

  return query
  with closed_days as materialized (
    select a.day from analytics.aggregated_days a where a.day between from_day and to_day
  ),
  per_type as (
    select dm.dimension as event_type, dm.value
      from analytics.daily_metrics dm
     where dm.metric = 'events' and dm.dimension <> ''
       and dm.day between from_day and to_day
       and dm.day in (select c.day from closed_days c)
    union all
    select c.dimension, c.value
      from (select from_day + g.i as day
              from generate_series(0, least(to_day, today) - from_day) as g (i)
             where not exists (select 1 from closed_days cd where cd.day = from_day + g.i)) as o
      cross join lateral private.open_day_metrics(o.day, 'events') c
     where c.dimension <> ''
  ),
  totals as (
    select t.event_type, sum(t.value) as events from per_type t group by t.event_type
  )
  select t.event_type, t.events, round(t.events / nullif(sum(t.events) over (), 0), 4)
    from totals t
   order by t.events desc, t.event_type
   limit top;
end
$$;
