-- =======================================================================================
-- Aggregation: computing a day, closing a day, and the nightly entry point
-- =======================================================================================

-- ---------------------------------------------------------------------------------------
-- Who was active on which day, over a range of days: closed days from
-- analytics.user_activity, the others (today, days not aggregated yet) from the events.
-- No `set search_path` on purpose: every name is qualified, and a SQL function without SET
-- options is inlined into the calling query, so the planner can aggregate it in place.
-- ---------------------------------------------------------------------------------------
create function analytics.user_days(first_day date, last_day date)
returns table (day date, user_id uuid)
language sql
stable
as $$
  select ua.day, ua.user_id
    from analytics.user_activity ua
   where ua.day between first_day and last_day
  union all
  select d.day, e.user_id
    from (
      -- The bounds are computed here, so that under RLS the range below is a plain
      -- comparison the index can serve (a non-leakproof function of the outer row would be
      -- kept behind the policy's check and evaluated as a filter on every event).
      select first_day + g.i as day,
             (first_day + g.i)::timestamp at time zone 'UTC' as lo,
             (first_day + g.i + 1)::timestamp at time zone 'UTC' as hi
        from generate_series(0, last_day - first_day) as g (i)
      offset 0 -- keeps the bounds computed here, not pulled up into the range below
    ) as d
    cross join lateral (
      select distinct ev.user_id
        from public.events ev
       where ev."timestamp" >= d.lo
         and ev."timestamp" < d.hi
         and ev.user_id is not null
    ) as e
   where not exists (select 1 from analytics.aggregated_days a where a.day = d.day)
$$;
comment on function analytics.user_days(date, date) is
  'One row per signed-in user and UTC day with at least one event, between first_day and last_day.';

-- ---------------------------------------------------------------------------------------
-- Weekly (7-day) and monthly (30-day) active users for every day of a range, in one pass:
-- each activity day a of a user covers the days a .. a+W-1; counting, per user, only the
-- part not already covered by their previous activity day p (from max(a, p+W) on) makes
-- the pieces disjoint, so a running sum of +1/-1 at their ends counts distinct users.
-- ---------------------------------------------------------------------------------------
create function analytics.window_active_users(first_day date, last_day date)
returns table (day date, weekly bigint, monthly bigint)
language sql
stable
as $$
  with activity as (
    select ud.user_id, ud.day,
           lag(ud.day) over (partition by ud.user_id order by ud.day) as previous
      from analytics.user_days(first_day - 29, last_day) ud
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
comment on function analytics.window_active_users(date, date) is
  'For each UTC day between first_day and last_day: distinct signed-in users active in the 7 and in the 30 days ending that day.';

-- Kept for callers that want the ids: the distinct users active in a range.
create function analytics.active_user_ids(first_day date, last_day date)
returns table (user_id uuid)
language sql
stable
as $$
  select ud.user_id from analytics.user_days(first_day, last_day) ud group by ud.user_id
$$;
comment on function analytics.active_user_ids(date, date) is
  'The distinct signed-in users with an event between first_day and last_day (UTC, inclusive).';

-- ---------------------------------------------------------------------------------------
-- Subscriptions paying at an instant: past any trial, not ended, not trialing. Inlinable
-- (no SET options; every name qualified).
-- ---------------------------------------------------------------------------------------
create function analytics.paying_subscriptions(at_instant timestamptz)
returns table (user_id uuid, plan text, currency text, monthly_cents numeric)
language sql
stable
as $$
  select s.user_id,
         s.plan,
         s.currency,
         case when s.billing_interval = 'year' then s.amount_cents / 12.0 else s.amount_cents::numeric end
    from public.subscriptions s
   where s.status <> 'trialing'
     and greatest(s.started_at, s.trial_ends_at) < at_instant
     and (s.canceled_at is null or s.canceled_at >= at_instant)
$$;
comment on function analytics.paying_subscriptions(timestamptz) is
  'Subscriptions paying just before at_instant (past any trial, not ended), with their monthly amount (yearly / 12).';

-- ---------------------------------------------------------------------------------------
-- Every metric of one UTC day, computed from the raw tables (the caller's RLS applies).
-- only_metric limits the work to one metric.
-- ---------------------------------------------------------------------------------------
create function analytics.compute_day(
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
    raise exception 'analytics.compute_day: target_day must not be null' using errcode = '22004';
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
      from analytics.user_days(target_day, target_day) u;
  end if;
  if (only_metric is null and with_windows) or only_metric in ('weekly_active_users', 'monthly_active_users') then
    return query
    select m.metric, ''::text, m.value
      from analytics.window_active_users(target_day, target_day) w
      cross join lateral (values ('weekly_active_users'::text, w.weekly::numeric),
                                 ('monthly_active_users'::text, w.monthly::numeric)) as m (metric, value)
     where only_metric is null or m.metric = only_metric;
  end if;

  if only_metric is null or only_metric in ('active_subscriptions', 'mrr_cents') then
    -- Paying at the end of the day: past any trial, not ended.
    return query
    with paying as (
      select p.plan, p.currency, p.monthly_cents from analytics.paying_subscriptions(hi) p
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
comment on function analytics.compute_day(date, text, boolean) is
  'Every metric of one UTC day (or only only_metric; without the 7- and 30-day windows when with_windows is false), computed from the raw tables as the caller, so row-level security applies.';

-- ---------------------------------------------------------------------------------------
-- Close one day: recompute its activity and every metric but the 7- and 30-day windows,
-- replacing its rollup rows.
-- ---------------------------------------------------------------------------------------
create function analytics.close_day(day date)
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
    from analytics.compute_day(close_day.day, null, false) c;
end
$$;
comment on function analytics.close_day(date) is
  'Recomputes one closed UTC day''s activity and metrics, except the 7- and 30-day windows (see analytics.refresh_windows).';

-- ---------------------------------------------------------------------------------------
-- The 7- and 30-day windows of a range of closed days, in one pass.
-- ---------------------------------------------------------------------------------------
create function analytics.refresh_windows(first_day date, last_day date)
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
    from analytics.window_active_users(first_day, last_day) w
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
comment on function analytics.refresh_windows(date, date) is
  'Recomputes weekly_active_users and monthly_active_users for the closed days between first_day and last_day, and the distinct users of the calendar weeks and months holding them.';

-- ---------------------------------------------------------------------------------------
-- Close one day and everything it feeds. Idempotent.
-- ---------------------------------------------------------------------------------------
create function analytics.aggregate_day(day date)
returns void
language plpgsql
security definer
set search_path = ''
set jit = off
as $$
declare
  last_closed date;
begin
  perform analytics.close_day(aggregate_day.day);
  -- The day is in the 7- and 30-day windows of the 29 days after it.
  select max(a.day) into last_closed from analytics.aggregated_days a
   where a.day between aggregate_day.day and aggregate_day.day + 29;
  perform analytics.refresh_windows(aggregate_day.day, last_closed);
end
$$;
comment on function analytics.aggregate_day(date) is
  'Recomputes one closed UTC day of every metric into analytics.daily_metrics and analytics.user_activity, and the 7- and 30-day windows it is part of. Idempotent.';

-- ---------------------------------------------------------------------------------------
-- The nightly entry point
-- ---------------------------------------------------------------------------------------
create function analytics.run_daily_aggregation(up_to date default null)
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
    perform analytics.close_day(d);
    earliest := least(earliest, d);
    n := n + 1;
  end loop;
  -- Every closed day from the earliest one redone on sees it in its windows.
  if earliest is not null then
    perform analytics.refresh_windows(earliest, through);
  end if;

  insert into analytics.aggregation_runs (started_at, finished_at, through_day, days_aggregated, snapshot_xmin)
  values (started, clock_timestamp(), through, n, current_xmin);
  return n;
end
$$;
comment on function analytics.run_daily_aggregation(date) is
  'Nightly entry point: aggregates every day from the last closed day (or the first event) up to up_to (default yesterday, UTC), re-aggregates the last 3 days, and any older day that received events since the previous run. Returns the number of days aggregated.';

revoke all on function analytics.user_days(date, date) from public, anon, authenticated, service_role;
revoke all on function analytics.window_active_users(date, date) from public, anon, authenticated, service_role;
revoke all on function analytics.close_day(date) from public, anon, authenticated, service_role;
revoke all on function analytics.refresh_windows(date, date) from public, anon, authenticated, service_role;
revoke all on function analytics.active_user_ids(date, date) from public, anon, authenticated, service_role;
revoke all on function analytics.paying_subscriptions(timestamptz) from public, anon, authenticated, service_role;
revoke all on function analytics.compute_day(date, text, boolean) from public, anon, authenticated, service_role;
revoke all on function analytics.aggregate_day(date) from public, anon, authenticated, service_role;
revoke all on function analytics.run_daily_aggregation(date) from public, anon, authenticated, service_role;
grant execute on function analytics.user_days(date, date) to authenticated, service_role, analyst;
grant execute on function analytics.window_active_users(date, date) to authenticated, service_role, analyst;
grant execute on function analytics.active_user_ids(date, date) to authenticated, service_role, analyst;
grant execute on function analytics.paying_subscriptions(timestamptz) to authenticated, service_role, analyst;
grant execute on function analytics.compute_day(date, text, boolean) to authenticated, service_role, analyst;
grant execute on function analytics.aggregate_day(date) to service_role;
grant execute on function analytics.run_daily_aggregation(date) to service_role;
