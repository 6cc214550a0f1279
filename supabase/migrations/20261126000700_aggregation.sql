-- =======================================================================================
-- Aggregation: computing a day, closing a day, and the nightly entry point
-- =======================================================================================

-- ---------------------------------------------------------------------------------------
-- Distinct active users over a range of days: closed days from analytics.user_activity,
-- the others (today, days not aggregated yet) straight from the events.
-- ---------------------------------------------------------------------------------------
create function analytics.active_user_ids(first_day date, last_day date)
returns table (user_id uuid)
language sql
stable
set search_path = ''
as $$
  select ua.user_id
    from analytics.user_activity ua
   where ua.day between first_day and last_day
  union all
  select e.user_id
    from (
      select first_day + g.i as day
        from generate_series(0, last_day - first_day) as g (i)
    ) as d
    cross join lateral (
      select ev.user_id
        from public.events ev
       where ev."timestamp" >= d.day::timestamp at time zone 'UTC'
         and ev."timestamp" < (d.day + 1)::timestamp at time zone 'UTC'
         and ev.user_id is not null
    ) as e
   where not exists (select 1 from analytics.aggregated_days a where a.day = d.day)
$$;
comment on function analytics.active_user_ids(date, date) is
  'The ids of signed-in users with an event between first_day and last_day (UTC, inclusive), with repeats: count distinct.';

-- ---------------------------------------------------------------------------------------
-- Every metric of one UTC day, computed from the raw tables (the caller's RLS applies).
-- only_metric limits the work to one metric.
-- ---------------------------------------------------------------------------------------
create function analytics.compute_day(target_day date, only_metric text default null)
returns table (metric text, dimension text, value numeric)
language plpgsql
stable
set search_path = ''
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
    select 'active_users'::text, ''::text, count(distinct u.user_id)::numeric
      from analytics.active_user_ids(target_day, target_day) u;
  end if;
  if only_metric is null or only_metric = 'weekly_active_users' then
    return query
    select 'weekly_active_users'::text, ''::text, count(distinct u.user_id)::numeric
      from analytics.active_user_ids(target_day - 6, target_day) u;
  end if;
  if only_metric is null or only_metric = 'monthly_active_users' then
    return query
    select 'monthly_active_users'::text, ''::text, count(distinct u.user_id)::numeric
      from analytics.active_user_ids(target_day - 29, target_day) u;
  end if;

  if only_metric is null or only_metric in ('active_subscriptions', 'mrr_cents') then
    -- Paying at the end of the day: past any trial, not ended.
    return query
    with paying as (
      select s.plan,
             s.currency,
             case when s.billing_interval = 'year' then s.amount_cents / 12.0
                  else s.amount_cents::numeric end as monthly_cents
        from public.subscriptions s
       where s.status <> 'trialing'
         and greatest(s.started_at, s.trial_ends_at) < hi
         and (s.canceled_at is null or s.canceled_at >= hi)
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
comment on function analytics.compute_day(date, text) is
  'Every metric of one UTC day (or only only_metric), computed from the raw tables as the caller, so row-level security applies.';

-- ---------------------------------------------------------------------------------------
-- Close one day: recompute it and replace its rollup rows. Idempotent.
-- ---------------------------------------------------------------------------------------
create function analytics.aggregate_day(day date)
returns void
language plpgsql
security definer
set search_path = ''
as $$
#variable_conflict use_column
declare
  lo timestamptz := aggregate_day.day::timestamp at time zone 'UTC';
  hi timestamptz := (aggregate_day.day + 1)::timestamp at time zone 'UTC';
  today date := (now() at time zone 'UTC')::date;
begin
  if aggregate_day.day is null then
    raise exception 'analytics.aggregate_day: day must not be null' using errcode = '22004';
  end if;
  if aggregate_day.day >= today then
    raise exception 'analytics.aggregate_day: % is not over yet (today is % UTC)', aggregate_day.day, today
      using errcode = '22023', hint = 'Only days before today can be aggregated; today is computed live.';
  end if;

  -- One aggregation of a given day at a time.
  perform pg_advisory_xact_lock(hashtext('beacon.aggregate_day'), aggregate_day.day - date '2000-01-01');

  delete from analytics.aggregated_days a where a.day = aggregate_day.day;
  delete from analytics.user_activity ua where ua.day = aggregate_day.day;
  insert into analytics.user_activity (day, user_id, events)
  select aggregate_day.day, e.user_id, count(*)
    from public.events e
   where e."timestamp" >= lo and e."timestamp" < hi and e.user_id is not null
   group by e.user_id;
  insert into analytics.aggregated_days (day, aggregated_at) values (aggregate_day.day, now());

  delete from analytics.daily_metrics dm where dm.day = aggregate_day.day;
  insert into analytics.daily_metrics (day, metric, dimension, value)
  select aggregate_day.day, c.metric, c.dimension, c.value
    from analytics.compute_day(aggregate_day.day) c;
end
$$;
comment on function analytics.aggregate_day(date) is
  'Recomputes one closed UTC day of every metric into analytics.daily_metrics and analytics.user_activity. Idempotent.';

-- ---------------------------------------------------------------------------------------
-- The nightly entry point
-- ---------------------------------------------------------------------------------------
create function analytics.run_daily_aggregation(up_to date default null)
returns integer
language plpgsql
security definer
set search_path = ''
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
    perform analytics.aggregate_day(d);
    n := n + 1;
  end loop;

  insert into analytics.aggregation_runs (started_at, finished_at, through_day, days_aggregated, snapshot_xmin)
  values (started, clock_timestamp(), through, n, current_xmin);
  return n;
end
$$;
comment on function analytics.run_daily_aggregation(date) is
  'Nightly entry point: aggregates every day from the last closed day (or the first event) up to up_to (default yesterday, UTC), re-aggregates the last 3 days, and any older day that received events since the previous run. Returns the number of days aggregated.';

revoke all on function analytics.active_user_ids(date, date) from public, anon, authenticated, service_role;
revoke all on function analytics.compute_day(date, text) from public, anon, authenticated, service_role;
revoke all on function analytics.aggregate_day(date) from public, anon, authenticated, service_role;
revoke all on function analytics.run_daily_aggregation(date) from public, anon, authenticated, service_role;
grant execute on function analytics.active_user_ids(date, date) to authenticated, service_role, analyst;
grant execute on function analytics.compute_day(date, text) to authenticated, service_role, analyst;
grant execute on function analytics.aggregate_day(date) to service_role;
grant execute on function analytics.run_daily_aggregation(date) to service_role;
