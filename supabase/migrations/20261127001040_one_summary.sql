-- =======================================================================================
-- analytics.summary() and analytics.summary_as_of(day): one definition of the numbers
-- =======================================================================================
-- The two functions wrote out the same seven numbers twice. They now both read
-- private.summary_numbers, and differ only in the moments they pass:
--
--                     summary()                    summary_as_of(day)
--   total_users       every profile                profiles created before day + 1 (UTC)
--   total_signups     through today                through day
--   subscriptions     paying now()                 paying at the end of day, as the day's
--                                                  metrics have it (the rollup once closed)
--   DAU, WAU, MAU     of yesterday (the last       of day
--                     complete UTC day)
--
-- Same results as before: the rollup holds closed days only, all before today, so "through
-- today" adds every signup row summary() added. Everything runs as the caller, so
-- row-level security decides what each number counts.

-- ---------------------------------------------------------------------------------------
-- private.summary_numbers: the headline numbers at the moments given
-- ---------------------------------------------------------------------------------------
create function private.summary_numbers(
  through_day date,
  activity_day date,
  users_before timestamptz default null,
  paying_at timestamptz default null
)
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
  return query
  with paying as (
    select count(*) as subscriptions,
           coalesce(sum(p.monthly_cents) filter (where p.currency = 'USD'), 0) as mrr_cents
      from private.paying_subscriptions(paying_at) p
  )
  select
    (select count(*) from public.profiles p
      where users_before is null or p.created_at < users_before),
    -- Closed days from the rollup, the others from the events.
    ((select coalesce(sum(dm.value), 0) from analytics.daily_metrics dm
       where dm.metric = 'signups' and dm.dimension = '' and dm.day <= through_day)
     + private.signups_not_rolled_up(through_day))::bigint,
    case when paying_at is null
         then (select t.value from analytics.timeseries('active_subscriptions', through_day, through_day) t)::bigint
         else (select p.subscriptions from paying p)
    end,
    round(case when paying_at is null
               then (select t.value from analytics.timeseries('mrr_cents', through_day, through_day) t)
               else (select p.mrr_cents from paying p)
          end / 100.0, 2),
    (select t.value from analytics.timeseries('active_users', activity_day, activity_day) t)::bigint,
    (select t.value from analytics.timeseries('weekly_active_users', activity_day, activity_day) t)::bigint,
    (select t.value from analytics.timeseries('monthly_active_users', activity_day, activity_day) t)::bigint;
end
$$;
comment on function private.summary_numbers(date, date, timestamptz, timestamptz) is
  'The numbers of analytics.summary() and analytics.summary_as_of(): profiles created before users_before (every profile when null); signups through through_day; subscriptions and MRR (USD) paying at paying_at, or when it is null at the end of through_day as analytics.timeseries has them; DAU, WAU and MAU of activity_day. As the caller.';
-- The read functions below run as the caller, so signed-in users execute it through them.
revoke all on function private.summary_numbers(date, date, timestamptz, timestamptz) from public, anon, authenticated, service_role;
grant execute on function private.summary_numbers(date, date, timestamptz, timestamptz) to authenticated, service_role, analyst;

-- ---------------------------------------------------------------------------------------
-- analytics.summary(): the numbers now
-- ---------------------------------------------------------------------------------------
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
declare
  today date := (now() at time zone 'UTC')::date;
begin
  return query
  select * from private.summary_numbers(
    through_day => today,
    activity_day => today - 1,  -- the last complete UTC day
    users_before => null,       -- every profile
    paying_at => now()
  );
end
$$;
comment on function analytics.summary() is
  'The headline numbers: total users, total signups, active (paying) subscriptions and the MRR estimate in USD now; DAU, WAU and MAU of the last complete UTC day (yesterday, and the 7 and 30 days ending yesterday).';
revoke all on function analytics.summary() from public, anon, authenticated, service_role;
grant execute on function analytics.summary() to authenticated, service_role, analyst;

-- ---------------------------------------------------------------------------------------
-- analytics.summary_as_of(day): the numbers as they stood at the end of a UTC day
-- ---------------------------------------------------------------------------------------
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
begin
  if summary_as_of.day is null then
    raise exception 'analytics.summary_as_of: day must not be null' using errcode = '22004';
  end if;
  return query
  select * from private.summary_numbers(
    through_day => summary_as_of.day,
    activity_day => summary_as_of.day,
    users_before => (summary_as_of.day + 1)::timestamp at time zone 'UTC',
    paying_at => null           -- the day's own subscription metrics
  );
end
$$;
comment on function analytics.summary_as_of(date) is
  'The numbers of analytics.summary() as they stood at the end of a UTC day.';
revoke all on function analytics.summary_as_of(date) from public, anon, authenticated, service_role;
grant execute on function analytics.summary_as_of(date) to authenticated, service_role, analyst;
