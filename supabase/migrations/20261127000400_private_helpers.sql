-- =======================================================================================
-- Internal helpers leave the API: from `analytics` (exposed over Supabase's REST API, see
-- supabase/config.toml) to `private` (never exposed)
-- =======================================================================================
-- What stays in `analytics` is what callers use: the read functions (timeseries, summary,
-- summary_as_of, breakdown, events_page), the aggregation entry points (aggregate_day,
-- run_daily_aggregation, which pg_cron's job calls by this name), the rollup tables and the
-- analysts' views. The helpers below move to `private`; every function whose body named
-- them is recreated with the new names (SQL and plpgsql bodies are stored as text and
-- resolved when they run, so `set schema` alone would break them).
--
-- `authenticated` keeps usage on `private` and execute on the helpers that the read
-- functions call: those run as the caller (so row-level security decides what they see) and
-- their plpgsql bodies resolve `private.<helper>` as the caller. `private` is not exposed
-- over the API, so no API request can name them. Nothing else in `private` is theirs, and
-- `anon` gets nothing in `private` but the superuser check policies need.

alter function analytics.user_days(date, date) set schema private;
alter function analytics.window_active_users(date, date) set schema private;
alter function analytics.active_user_ids(date, date) set schema private;
alter function analytics.paying_subscriptions(timestamptz) set schema private;
alter function analytics.compute_day(date, text, boolean) set schema private;
alter function analytics.close_day(date) set schema private;
alter function analytics.refresh_windows(date, date) set schema private;
alter function analytics.signups_not_rolled_up(date) set schema private;

-- private.window_active_users
create or replace function private.window_active_users(first_day date, last_day date)
returns table (day date, weekly bigint, monthly bigint)
language sql
stable
as $$
  with activity as (
    select ud.user_id, ud.day,
           lag(ud.day) over (partition by ud.user_id order by ud.day) as previous
      from private.user_days(first_day - 29, last_day) ud
  ),
  pieces as (
    select greatest(a.day, a.previous + 7) as starts, a.day + 6 as ends, 7 as size from activity a
    union all
    select greatest(a.day, a.previous + 30), a.day + 29, 30 from activity a
  ),
  steps as (
    select p.starts as day, p.size, 1 as delta from pieces p
    union all
    select p.ends + 1, p.size, -1 from pieces p
  ),
  per_day as (
    select s.day, s.size, sum(s.delta) as delta from steps s group by s.day, s.size
  ),
  running as (
    select pd.day, pd.size, sum(pd.delta) over (partition by pd.size order by pd.day) as active
      from per_day pd
  ),
  days as (
    select first_day + g.i as day from generate_series(0, last_day - first_day) as g (i)
  )
  select d.day,
         coalesce((select r.active from running r where r.size = 7 and r.day <= d.day
                    order by r.day desc limit 1), 0)::bigint,
         coalesce((select r.active from running r where r.size = 30 and r.day <= d.day
                    order by r.day desc limit 1), 0)::bigint
    from days d
$$;

-- private.active_user_ids
create or replace function private.active_user_ids(first_day date, last_day date)
returns table (user_id uuid)
language sql
stable
as $$
  select ud.user_id from private.user_days(first_day, last_day) ud group by ud.user_id
$$;

-- private.compute_day
create or replace function private.compute_day(
  target_day date,
  only_metric text default null,
  with_windows boolean default true
)
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
begin
  if target_day is null then
    raise exception 'private.compute_day: target_day must not be null' using errcode = '22004';
  end if;

  if only_metric is null or only_metric in ('events', 'signups') then
    return query
    with by_type as (
      select e.event_type, count(*)::numeric as n
        from public.events e
       where e."timestamp" >= lo and e."timestamp" < hi
       group by e.event_type
    )
    select 'events'::text, ''::text, coalesce(sum(t.n), 0) from by_type t
    having only_metric is null or only_metric = 'events'
    union all
    select 'events'::text, t.event_type, t.n from by_type t
     where only_metric is null or only_metric = 'events'
    union all
    select 'signups'::text, ''::text, coalesce(sum(t.n) filter (where t.event_type = 'user_signup'), 0)
      from by_type t
    having only_metric is null or only_metric = 'signups';
  end if;

  if only_metric is null or only_metric = 'active_users' then
    return query
    select 'active_users'::text, ''::text, count(*)::numeric
      from private.user_days(target_day, target_day) u;
  end if;
  if (only_metric is null and with_windows) or only_metric in ('weekly_active_users', 'monthly_active_users') then
    return query
    select m.metric, ''::text, m.value
      from private.window_active_users(target_day, target_day) w
      cross join lateral (values ('weekly_active_users'::text, w.weekly::numeric),
                                 ('monthly_active_users'::text, w.monthly::numeric)) as m (metric, value)
     where only_metric is null or m.metric = only_metric;
  end if;

  if only_metric is null or only_metric in ('active_subscriptions', 'mrr_cents') then
    -- Paying at the end of the day: past any trial, not ended.
    return query
    with paying as (
      select p.plan, p.currency, p.monthly_cents from private.paying_subscriptions(hi) p
    )
    select 'active_subscriptions'::text, ''::text, count(*)::numeric from paying p
    having only_metric is null or only_metric = 'active_subscriptions'
    union all
    select 'active_subscriptions'::text, p.plan, count(*)::numeric from paying p
     where only_metric is null or only_metric = 'active_subscriptions'
     group by p.plan
    union all
    select 'mrr_cents'::text, ''::text, coalesce(round(sum(p.monthly_cents)), 0) from paying p
     where p.currency = 'USD'
    having only_metric is null or only_metric = 'mrr_cents'
    union all
    select 'mrr_cents'::text, p.plan, round(sum(p.monthly_cents)) from paying p
     where (only_metric is null or only_metric = 'mrr_cents') and p.currency = 'USD'
     group by p.plan;
  end if;

  if only_metric is null or only_metric = 'new_subscriptions' then
    -- Users who started paying this day, unless another subscription of theirs was paying
    -- right before (a plan change).
    return query
    select 'new_subscriptions'::text, ''::text, count(distinct s.user_id)::numeric
      from public.subscriptions s
     where s.status <> 'trialing'
       and greatest(s.started_at, s.trial_ends_at) >= lo
       and greatest(s.started_at, s.trial_ends_at) < hi
       and (s.canceled_at is null or s.canceled_at > greatest(s.started_at, s.trial_ends_at))
       and not exists (
         select 1 from public.subscriptions o
          where o.user_id = s.user_id and o.id <> s.id and o.status <> 'trialing'
            and greatest(o.started_at, o.trial_ends_at) < greatest(s.started_at, s.trial_ends_at)
            and (o.canceled_at is null or o.canceled_at >= greatest(s.started_at, s.trial_ends_at))
       );
  end if;

  if only_metric is null or only_metric = 'churned_subscriptions' then
    -- Users whose paying subscription ended this day, unless another one of theirs was
    -- paying right after (a plan change).
    return query
    select 'churned_subscriptions'::text, ''::text, count(distinct s.user_id)::numeric
      from public.subscriptions s
     where s.status <> 'trialing'
       and s.canceled_at >= lo
       and s.canceled_at < hi
       and greatest(s.started_at, s.trial_ends_at) < s.canceled_at
       and not exists (
         select 1 from public.subscriptions o
          where o.user_id = s.user_id and o.id <> s.id and o.status <> 'trialing'
            and greatest(o.started_at, o.trial_ends_at) <= s.canceled_at
            and (o.canceled_at is null or o.canceled_at > s.canceled_at)
       );
  end if;
end
$$;

-- private.close_day
create or replace function private.close_day(day date)
returns void
language plpgsql
security definer
set search_path = ''
set jit = off
as $$
#variable_conflict use_column
declare
  lo timestamptz := close_day.day::timestamp at time zone 'UTC';
  hi timestamptz := (close_day.day + 1)::timestamp at time zone 'UTC';
  today date := (now() at time zone 'UTC')::date;
begin
  if close_day.day is null then
    raise exception 'analytics.aggregate_day: day must not be null' using errcode = '22004';
  end if;
  if close_day.day >= today then
    raise exception 'analytics.aggregate_day: % is not over yet (today is % UTC)', close_day.day, today
      using errcode = '22023', hint = 'Only days before today can be aggregated; today is computed live.';
  end if;

  -- One aggregation of a given day at a time.
  perform pg_advisory_xact_lock(hashtext('beacon.aggregate_day'), close_day.day - date '2000-01-01');

  delete from analytics.aggregated_days a where a.day = close_day.day;
  delete from analytics.user_activity ua where ua.day = close_day.day;
  insert into analytics.user_activity (day, user_id, events)
  select close_day.day, e.user_id, count(*)
    from public.events e
   where e."timestamp" >= lo and e."timestamp" < hi and e.user_id is not null
   group by e.user_id;
  insert into analytics.aggregated_days (day, aggregated_at) values (close_day.day, now());

  delete from analytics.daily_metrics dm
   where dm.day = close_day.day and dm.metric not in ('weekly_active_users', 'monthly_active_users');
  insert into analytics.daily_metrics (day, metric, dimension, value)
  select close_day.day, c.metric, c.dimension, c.value
    from private.compute_day(close_day.day, null, false) c;
end
$$;

-- private.refresh_windows
create or replace function private.refresh_windows(first_day date, last_day date)
returns void
language plpgsql
security definer
set search_path = ''
set jit = off
as $$
begin
  delete from analytics.daily_metrics dm
   where dm.day between first_day and last_day
     and dm.metric in ('weekly_active_users', 'monthly_active_users');
  insert into analytics.daily_metrics (day, metric, dimension, value)
  select w.day, m.metric, '', m.value
    from private.window_active_users(first_day, last_day) w
    join analytics.aggregated_days a on a.day = w.day
    cross join lateral (values ('weekly_active_users'::text, w.weekly::numeric),
                               ('monthly_active_users'::text, w.monthly::numeric)) as m (metric, value);

  -- Distinct users of every calendar week and month that holds one of these days.
  delete from analytics.bucket_active_users b
   where (b.bucket = 'week' and b.start between date_trunc('week', first_day)::date and last_day)
      or (b.bucket = 'month' and b.start between date_trunc('month', first_day)::date and last_day);
  insert into analytics.bucket_active_users (bucket, start, users)
  select k.bucket, k.start, count(*)
    from (
      select distinct 'week'::text as bucket, date_trunc('week', ua.day)::date as start, ua.user_id
        from analytics.user_activity ua
       where ua.day between date_trunc('week', first_day)::date and (date_trunc('week', last_day) + interval '6 days')::date
      union all
      select distinct 'month', date_trunc('month', ua.day)::date, ua.user_id
        from analytics.user_activity ua
       where ua.day between date_trunc('month', first_day)::date and (date_trunc('month', last_day) + interval '1 month - 1 day')::date
    ) as k
   group by k.bucket, k.start;
end
$$;

-- analytics.aggregate_day
create or replace function analytics.aggregate_day(day date)
returns void
language plpgsql
security definer
set search_path = ''
set jit = off
as $$
declare
  last_closed date;
begin
  perform private.close_day(aggregate_day.day);
  -- The day is in the 7- and 30-day windows of the 29 days after it.
  select max(a.day) into last_closed from analytics.aggregated_days a
   where a.day between aggregate_day.day and aggregate_day.day + 29;
  perform private.refresh_windows(aggregate_day.day, last_closed);
end
$$;

-- analytics.run_daily_aggregation
create or replace function analytics.run_daily_aggregation(up_to date default null)
returns integer
language plpgsql
security definer
set search_path = ''
set jit = off
as $$
declare
  started timestamptz := clock_timestamp();
  today date := (now() at time zone 'UTC')::date;
  through date := coalesce(up_to, (now() at time zone 'UTC')::date - 1);
  last_closed date;
  previous_xmin xid8;
  current_xmin xid8 := pg_snapshot_xmin(pg_current_snapshot());
  first_day date;
  d date;
  earliest date;
  n integer := 0;
begin
  if through >= today then
    raise exception 'analytics.run_daily_aggregation: up_to (%) must be before today (% UTC)', through, today
      using errcode = '22023';
  end if;

  -- One run at a time.
  perform pg_advisory_xact_lock(hashtext('beacon.run_daily_aggregation'));

  select max(a.day) into last_closed from analytics.aggregated_days a where a.day <= through;
  select r.snapshot_xmin into previous_xmin from analytics.aggregation_runs r order by r.id desc limit 1;

  if last_closed is null then
    select (min(e."timestamp") at time zone 'UTC')::date into first_day from public.events e;
  else
    -- Catch up every day since the last closed one, and redo the last three for late events.
    first_day := least(last_closed + 1, through - 2);
  end if;

  for d in
    select days.day
      from (
        select first_day + g.i as day
          from generate_series(0, through - first_day) as g (i)
         where first_day is not null
        union
        -- Older days that received events since the previous run started (including
        -- transactions that were still running then).
        select (e."timestamp" at time zone 'UTC')::date
          from public.events e
         where previous_xmin is not null and e.txid >= previous_xmin
      ) as days
     where days.day <= through
     order by days.day
  loop
    perform private.close_day(d);
    earliest := least(earliest, d);
    n := n + 1;
  end loop;
  -- Every closed day from the earliest one redone on sees it in its windows.
  if earliest is not null then
    perform private.refresh_windows(earliest, through);
  end if;

  insert into analytics.aggregation_runs (started_at, finished_at, through_day, days_aggregated, snapshot_xmin)
  values (started, clock_timestamp(), through, n, current_xmin);
  return n;
end
$$;

-- analytics.timeseries
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
  with per_day as (
    select d.day,
           case
             when d.day > today then null
             when exists (select 1 from analytics.aggregated_days a where a.day = d.day) then
               coalesce((select dm.value from analytics.daily_metrics dm
                          where dm.day = d.day and dm.metric = timeseries.metric
                            and dm.dimension = timeseries.dimension), 0)
             else
               coalesce((select c.value from private.compute_day(d.day, timeseries.metric) c
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

-- analytics.summary
create or replace function analytics.summary()
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
      from private.paying_subscriptions(now()) p
  )
  select
    (select count(*) from public.profiles),
    -- Closed days from the rollup, the days after the last closed one from the events.
    ((select coalesce(sum(dm.value), 0) from analytics.daily_metrics dm
       where dm.metric = 'signups' and dm.dimension = '')
     + private.signups_not_rolled_up(today))::bigint,
    (select p.subscriptions from paying p),
    round((select p.mrr_cents from paying p) / 100.0, 2),
    -- The last complete UTC day: yesterday.
    (select t.value from analytics.timeseries('active_users', today - 1, today - 1) t)::bigint,
    (select t.value from analytics.timeseries('weekly_active_users', today - 1, today - 1) t)::bigint,
    (select t.value from analytics.timeseries('monthly_active_users', today - 1, today - 1) t)::bigint;
end
$$;

-- analytics.breakdown
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
      cross join lateral private.compute_day(o.day, 'events') c
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

-- analytics.summary_as_of
create or replace function analytics.summary_as_of(day date)
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
begin
  if summary_as_of.day is null then
    raise exception 'analytics.summary_as_of: day must not be null' using errcode = '22004';
  end if;
  return query
  select
    (select count(*) from public.profiles p
      where p.created_at < (summary_as_of.day + 1)::timestamp at time zone 'UTC'),
    -- Closed days from the rollup, the others from the events.
    ((select coalesce(sum(dm.value), 0) from analytics.daily_metrics dm
       where dm.metric = 'signups' and dm.dimension = '' and dm.day <= summary_as_of.day)
     + private.signups_not_rolled_up(summary_as_of.day))::bigint,
    (select t.value from analytics.timeseries('active_subscriptions', summary_as_of.day, summary_as_of.day) t)::bigint,
    round((select t.value from analytics.timeseries('mrr_cents', summary_as_of.day, summary_as_of.day) t) / 100.0, 2),
    (select t.value from analytics.timeseries('active_users', summary_as_of.day, summary_as_of.day) t)::bigint,
    (select t.value from analytics.timeseries('weekly_active_users', summary_as_of.day, summary_as_of.day) t)::bigint,
    (select t.value from analytics.timeseries('monthly_active_users', summary_as_of.day, summary_as_of.day) t)::bigint;
end
$$;

comment on function private.close_day(date) is
  'Recomputes one closed UTC day''s activity and metrics, except the 7- and 30-day windows (see private.refresh_windows). Called by analytics.aggregate_day and analytics.run_daily_aggregation.';

-- ---------------------------------------------------------------------------------------
-- Grants: API roles reach the helpers only through the read functions
-- ---------------------------------------------------------------------------------------
revoke usage on schema private from anon;
revoke all on function private.active_user_ids(date, date) from authenticated;

-- ---------------------------------------------------------------------------------------
-- One permissive SELECT policy per table and role (Supabase's linter flags several: each
-- one is evaluated for every row). Same rows as before: their own, or all for superusers.
-- ---------------------------------------------------------------------------------------
drop policy "Users can read their own profile" on public.profiles;
drop policy "Superusers can read every profile" on public.profiles;
create policy "Users can read their own profile, superusers every profile"
  on public.profiles for select to authenticated
  using (id = (select auth.uid()) or (select private.is_superuser()));

drop policy "Users can read their own subscriptions" on public.subscriptions;
drop policy "Superusers can read every subscription" on public.subscriptions;
create policy "Users can read their own subscriptions, superusers every subscription"
  on public.subscriptions for select to authenticated
  using (user_id = (select auth.uid()) or (select private.is_superuser()));
