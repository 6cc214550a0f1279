-- =======================================================================================
-- One day's metrics, one function per metric family; private.compute_day composes them
-- =======================================================================================
-- private.compute_day computed every metric of a day in one plpgsql body of six blocks.
-- Each block is now a function of its own, named after what it counts and testable alone
-- (supabase/tests/09_day_metrics.test.sql):
--
--   private.day_events                events, in all and per event_type
--   private.day_signups               signups (user_signup events)
--   private.day_active_users          active_users (DAU)
--   private.day_window_active_users   weekly_active_users, monthly_active_users
--   private.day_paying_subscriptions  active_subscriptions and mrr_cents, in all and per plan
--   private.day_subscription_changes  new_subscriptions, churned_subscriptions
--
-- Active users and subscriptions are each two functions rather than one so that a read of
-- one metric does only its own work: the 7- and 30-day windows cost a pass over 30 days of
-- activity, which DAU does not need, and the nightly job computes them apart
-- (private.refresh_windows); a live read of MRR need not look for plan changes.
--
-- Every function runs as the caller (security invoker), so row-level security decides
-- which events and subscriptions it counts; each returns rows of (metric, dimension,
-- value), dimension '' for the total. The queries are those of the old compute_day, with
-- greatest(started_at, trial_ends_at) now private.paid_from (20261127001010_paid_from.sql).
-- `authenticated` may execute them because the read functions call them as the caller;
-- `anon` may not (schema `private` is not exposed over the API either).

-- ---------------------------------------------------------------------------------------
-- private.day_events: events that happened that UTC day, in all and per event_type
-- ---------------------------------------------------------------------------------------
create function private.day_events(target_day date)
returns table (metric text, dimension text, value numeric)
language plpgsql
stable
set search_path = ''
set jit = off
as $$
#variable_conflict use_column
declare
  -- Variables, so the range below is a comparison with parameters that the index on
  -- events ("timestamp") serves, under row-level security too.
  lo timestamptz := target_day::timestamp at time zone 'UTC';
  hi timestamptz := (target_day + 1)::timestamp at time zone 'UTC';
begin
  return query
  with by_type as (
    select e.event_type, count(*)::numeric as n
      from public.events e
     where e."timestamp" >= lo and e."timestamp" < hi
     group by e.event_type
  )
  select 'events'::text, ''::text, coalesce(sum(t.n), 0) from by_type t
  union all
  select 'events'::text, t.event_type, t.n from by_type t;
end
$$;
comment on function private.day_events(date) is
  'Metric family "events" of one UTC day: the events that happened that day, in all (dimension '''') and per event_type, as the caller sees them.';
revoke all on function private.day_events(date) from public, anon, authenticated, service_role;
grant execute on function private.day_events(date) to authenticated, service_role, analyst;

-- ---------------------------------------------------------------------------------------
-- private.day_signups: user_signup events that UTC day
-- ---------------------------------------------------------------------------------------
create function private.day_signups(target_day date)
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
  -- Served by the partial index events_signups_idx.
  return query
  select 'signups'::text, ''::text, count(*)::numeric
    from public.events e
   where e.event_type = 'user_signup'
     and e."timestamp" >= lo and e."timestamp" < hi;
end
$$;
comment on function private.day_signups(date) is
  'Metric family "signups" of one UTC day: the user_signup events of that day, as the caller sees them.';
revoke all on function private.day_signups(date) from public, anon, authenticated, service_role;
grant execute on function private.day_signups(date) to authenticated, service_role, analyst;

-- ---------------------------------------------------------------------------------------
-- private.day_active_users: distinct signed-in users with an event that UTC day
-- ---------------------------------------------------------------------------------------
create function private.day_active_users(target_day date)
returns table (metric text, dimension text, value numeric)
language plpgsql
stable
set search_path = ''
set jit = off
as $$
#variable_conflict use_column
begin
  return query
  select 'active_users'::text, ''::text, count(*)::numeric
    from private.user_days(target_day, target_day) u;
end
$$;
comment on function private.day_active_users(date) is
  'Metric family "active users" of one UTC day: distinct signed-in users with an event that day (from analytics.user_activity once the day is closed), as the caller sees them.';
revoke all on function private.day_active_users(date) from public, anon, authenticated, service_role;
grant execute on function private.day_active_users(date) to authenticated, service_role, analyst;

-- ---------------------------------------------------------------------------------------
-- private.day_window_active_users: distinct users of the 7 and 30 days ending that day
-- ---------------------------------------------------------------------------------------
create function private.day_window_active_users(target_day date)
returns table (metric text, dimension text, value numeric)
language plpgsql
stable
set search_path = ''
set jit = off
as $$
#variable_conflict use_column
begin
  return query
  select m.metric, ''::text, m.value
    from private.window_active_users(target_day, target_day) w
    cross join lateral (values ('weekly_active_users'::text, w.weekly::numeric),
                               ('monthly_active_users'::text, w.monthly::numeric)) as m (metric, value);
end
$$;
comment on function private.day_window_active_users(date) is
  'Metric family "active users", windows: distinct signed-in users with an event in the 7 (weekly_active_users) and the 30 (monthly_active_users) UTC days ending that day, as the caller sees them.';
revoke all on function private.day_window_active_users(date) from public, anon, authenticated, service_role;
grant execute on function private.day_window_active_users(date) to authenticated, service_role, analyst;

-- ---------------------------------------------------------------------------------------
-- private.day_paying_subscriptions: paying subscriptions and MRR at the end of that day
-- ---------------------------------------------------------------------------------------
create function private.day_paying_subscriptions(target_day date)
returns table (metric text, dimension text, value numeric)
language plpgsql
stable
set search_path = ''
set jit = off
as $$
#variable_conflict use_column
declare
  hi timestamptz := (target_day + 1)::timestamp at time zone 'UTC';
begin
  -- Paying at the end of the day: past any trial, not ended. MRR counts USD only.
  return query
  with paying as (
    select p.plan, p.currency, p.monthly_cents from private.paying_subscriptions(hi) p
  )
  select 'active_subscriptions'::text, ''::text, count(*)::numeric from paying p
  union all
  select 'active_subscriptions'::text, p.plan, count(*)::numeric from paying p
   group by p.plan
  union all
  select 'mrr_cents'::text, ''::text, coalesce(round(sum(p.monthly_cents)), 0) from paying p
   where p.currency = 'USD'
  union all
  select 'mrr_cents'::text, p.plan, round(sum(p.monthly_cents)) from paying p
   where p.currency = 'USD'
   group by p.plan;
end
$$;
comment on function private.day_paying_subscriptions(date) is
  'Metric family "subscriptions and revenue" at the end of one UTC day: paying subscriptions (active_subscriptions) and monthly recurring revenue in USD cents (mrr_cents, yearly plans count 1/12), in all and per plan, as the caller sees them.';
revoke all on function private.day_paying_subscriptions(date) from public, anon, authenticated, service_role;
grant execute on function private.day_paying_subscriptions(date) to authenticated, service_role, analyst;

-- ---------------------------------------------------------------------------------------
-- private.day_subscription_changes: users who started or stopped paying that day
-- ---------------------------------------------------------------------------------------
create function private.day_subscription_changes(target_day date)
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
  -- Users who started paying this day, unless another subscription of theirs was paying
  -- right before (a plan change).
  return query
  select 'new_subscriptions'::text, ''::text, count(distinct s.user_id)::numeric
    from public.subscriptions s
   where s.status <> 'trialing'
     and private.paid_from(s.started_at, s.trial_ends_at) >= lo
     and private.paid_from(s.started_at, s.trial_ends_at) < hi
     and (s.canceled_at is null or s.canceled_at > private.paid_from(s.started_at, s.trial_ends_at))
     and not exists (
       select 1 from public.subscriptions o
        where o.user_id = s.user_id and o.id <> s.id and o.status <> 'trialing'
          and private.paid_from(o.started_at, o.trial_ends_at) < private.paid_from(s.started_at, s.trial_ends_at)
          and (o.canceled_at is null or o.canceled_at >= private.paid_from(s.started_at, s.trial_ends_at))
     );

  -- Users whose paying subscription ended this day, unless another one of theirs was
  -- paying right after (a plan change).
  return query
  select 'churned_subscriptions'::text, ''::text, count(distinct s.user_id)::numeric
    from public.subscriptions s
   where s.status <> 'trialing'
     and s.canceled_at >= lo
     and s.canceled_at < hi
     and private.paid_from(s.started_at, s.trial_ends_at) < s.canceled_at
     and not exists (
       select 1 from public.subscriptions o
        where o.user_id = s.user_id and o.id <> s.id and o.status <> 'trialing'
          and private.paid_from(o.started_at, o.trial_ends_at) <= s.canceled_at
          and (o.canceled_at is null or o.canceled_at > s.canceled_at)
     );
end
$$;
comment on function private.day_subscription_changes(date) is
  'Metric family "subscriptions and revenue", changes of one UTC day: users who started paying (new_subscriptions) and who stopped paying (churned_subscriptions) that day, plan changes excluded, as the caller sees them.';
revoke all on function private.day_subscription_changes(date) from public, anon, authenticated, service_role;
grant execute on function private.day_subscription_changes(date) to authenticated, service_role, analyst;

-- ---------------------------------------------------------------------------------------
-- private.compute_day: the families of the metrics asked for
-- ---------------------------------------------------------------------------------------
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
begin
  if target_day is null then
    raise exception 'private.compute_day: target_day must not be null' using errcode = '22004';
  end if;

  if only_metric is null or only_metric = 'events' then
    return query select f.metric, f.dimension, f.value from private.day_events(target_day) f;
  end if;
  if only_metric is null or only_metric = 'signups' then
    return query select f.metric, f.dimension, f.value from private.day_signups(target_day) f;
  end if;
  if only_metric is null or only_metric = 'active_users' then
    return query select f.metric, f.dimension, f.value from private.day_active_users(target_day) f;
  end if;
  if (only_metric is null and with_windows) or only_metric in ('weekly_active_users', 'monthly_active_users') then
    return query select f.metric, f.dimension, f.value from private.day_window_active_users(target_day) f
                  where only_metric is null or f.metric = only_metric;
  end if;
  if only_metric is null or only_metric in ('active_subscriptions', 'mrr_cents') then
    return query select f.metric, f.dimension, f.value from private.day_paying_subscriptions(target_day) f
                  where only_metric is null or f.metric = only_metric;
  end if;
  if only_metric is null or only_metric in ('new_subscriptions', 'churned_subscriptions') then
    return query select f.metric, f.dimension, f.value from private.day_subscription_changes(target_day) f
                  where only_metric is null or f.metric = only_metric;
  end if;
end
$$;
comment on function private.compute_day(date, text, boolean) is
  'Every metric of one UTC day (or only only_metric; without the 7- and 30-day windows when with_windows is false), computed from the raw tables as the caller, so row-level security applies: the rows of the private.day_* function of each metric family asked for.';
revoke all on function private.compute_day(date, text, boolean) from public, anon, authenticated, service_role;
grant execute on function private.compute_day(date, text, boolean) to authenticated, service_role, analyst;
