-- =======================================================================================
-- Reads: time series, summary, breakdown. Closed days come from the rollup, the rest is
-- computed live; all run as the caller, so row-level security decides what they see.
-- =======================================================================================

create function analytics.timeseries(
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
                             from analytics.user_days(b.start, least((b.start + ('1 ' || timeseries.bucket)::interval)::date - 1, today)) ud
                            group by ud.user_id) as distinct_users)
           end
      from buckets b
     order by b.start;
    return;
  end if;

  return query
  with per_day as (
    select d.day,
           case
             when d.day > today then null
             when exists (select 1 from analytics.aggregated_days a where a.day = d.day) then
               coalesce((select dm.value from analytics.daily_metrics dm
                          where dm.day = d.day and dm.metric = timeseries.metric
                            and dm.dimension = timeseries.dimension), 0)
             else
               coalesce((select c.value from analytics.compute_day(d.day, timeseries.metric) c
                          where c.dimension = timeseries.dimension), 0)
           end as value
      from (select from_day + g.i as day from generate_series(0, to_day - from_day) as g (i)) as d
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
comment on function analytics.timeseries(text, date, date, text, text) is
  'One row per bucket (day, week starting Monday, or month; UTC) between from_day and to_day, zeros where nothing happened. Sums cover the days of the bucket inside the range; active_users by week or month counts the distinct users of the whole calendar week or month (up to today). Closed days come from the rollup, the others are computed live.';

-- Signups on the days up to through_day that are not closed yet (today, and any day the
-- nightly job has not reached): what the rollup does not hold yet.
create function analytics.signups_not_rolled_up(through_day date)
returns bigint
language sql
stable
as $$
  select coalesce(sum(c.n), 0)::bigint
    from (
      -- Bounds computed here so the range below can use the index under RLS too.
      select f.first_day + g.i as day,
             (f.first_day + g.i)::timestamp at time zone 'UTC' as lo,
             (f.first_day + g.i + 1)::timestamp at time zone 'UTC' as hi
        from (select (min(e."timestamp") at time zone 'UTC')::date as first_day from public.events e) as f
        cross join lateral generate_series(0, through_day - f.first_day) as g (i)
      offset 0 -- keeps the bounds computed here, not pulled up into the range below
    ) as d
    cross join lateral (
      select count(*) as n
        from public.events e
       where e.event_type = 'user_signup'
         and e."timestamp" >= d.lo
         and e."timestamp" < d.hi
    ) as c
   where not exists (select 1 from analytics.aggregated_days a where a.day = d.day)
$$;
comment on function analytics.signups_not_rolled_up(date) is
  'user_signup events on the days up to through_day that are not in the rollup yet.';

create function analytics.summary()
returns table (
  total_users bigint,
  total_signups bigint,
  active_subscriptions bigint,
  mrr_estimate_usd numeric,
  dau bigint,
  wau bigint,
  mau bigint
)
language plpgsql
stable
set search_path = ''
set jit = off
as $$
#variable_conflict use_column
declare
  today date := (now() at time zone 'UTC')::date;
begin
  return query
  with paying as (
    select count(*) as subscriptions,
           coalesce(sum(p.monthly_cents) filter (where p.currency = 'USD'), 0) as mrr_cents
      from analytics.paying_subscriptions(now()) p
  )
  select
    (select count(*) from public.profiles),
    -- Closed days from the rollup, the days after the last closed one from the events.
    ((select coalesce(sum(dm.value), 0) from analytics.daily_metrics dm
       where dm.metric = 'signups' and dm.dimension = '')
     + analytics.signups_not_rolled_up(today))::bigint,
    (select p.subscriptions from paying p),
    round((select p.mrr_cents from paying p) / 100.0, 2),
    -- The last complete UTC day: yesterday.
    (select t.value from analytics.timeseries('active_users', today - 1, today - 1) t)::bigint,
    (select t.value from analytics.timeseries('weekly_active_users', today - 1, today - 1) t)::bigint,
    (select t.value from analytics.timeseries('monthly_active_users', today - 1, today - 1) t)::bigint;
end
$$;
comment on function analytics.summary() is
  'The headline numbers: total users, total signups, active (paying) subscriptions and the MRR estimate in USD now; DAU, WAU and MAU of the last complete UTC day (yesterday, and the 7 and 30 days ending yesterday).';

create function analytics.breakdown(from_day date, to_day date, top integer default 10)
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
  with days as (
    select from_day + g.i as day,
           exists (select 1 from analytics.aggregated_days a where a.day = from_day + g.i) as closed
      from generate_series(0, to_day - from_day) as g (i)
  ),
  per_type as (
    select dm.dimension as event_type, dm.value
      from analytics.daily_metrics dm
      join days d on d.day = dm.day and d.closed
     where dm.metric = 'events' and dm.dimension <> ''
    union all
    select c.dimension, c.value
      from (select d.day from days d where not d.closed and d.day <= today) as o
      cross join lateral analytics.compute_day(o.day, 'events') c
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
comment on function analytics.breakdown(date, date, integer) is
  'Events per event_type between from_day and to_day (UTC, inclusive), the top ones first, with each one''s share of all events in the range.';

revoke all on function analytics.timeseries(text, date, date, text, text) from public, anon, authenticated, service_role;
revoke all on function analytics.signups_not_rolled_up(date) from public, anon, authenticated, service_role;
revoke all on function analytics.summary() from public, anon, authenticated, service_role;
revoke all on function analytics.breakdown(date, date, integer) from public, anon, authenticated, service_role;
grant execute on function analytics.timeseries(text, date, date, text, text) to authenticated, service_role, analyst;
grant execute on function analytics.signups_not_rolled_up(date) to authenticated, service_role, analyst;
grant execute on function analytics.summary() to authenticated, service_role, analyst;
grant execute on function analytics.breakdown(date, date, integer) to authenticated, service_role, analyst;
