-- =======================================================================================
-- Views for analysts: plain SQL over the rollup, security_invoker so RLS still applies
-- =======================================================================================
-- They show closed UTC days (today appears after the nightly run); for today use
-- analytics.timeseries() or analytics.summary().

create view analytics.daily_overview with (security_invoker = true) as
select dm.day,
       coalesce(max(dm.value) filter (where dm.metric = 'events'), 0)::bigint as events,
       coalesce(max(dm.value) filter (where dm.metric = 'signups'), 0)::bigint as signups,
       coalesce(max(dm.value) filter (where dm.metric = 'active_users'), 0)::bigint as active_users,
       coalesce(max(dm.value) filter (where dm.metric = 'weekly_active_users'), 0)::bigint as weekly_active_users,
       coalesce(max(dm.value) filter (where dm.metric = 'monthly_active_users'), 0)::bigint as monthly_active_users,
       coalesce(max(dm.value) filter (where dm.metric = 'active_subscriptions'), 0)::bigint as active_subscriptions,
       coalesce(max(dm.value) filter (where dm.metric = 'new_subscriptions'), 0)::bigint as new_subscriptions,
       coalesce(max(dm.value) filter (where dm.metric = 'churned_subscriptions'), 0)::bigint as churned_subscriptions,
       round(coalesce(max(dm.value) filter (where dm.metric = 'mrr_cents'), 0) / 100.0, 2) as mrr_usd
  from analytics.daily_metrics dm
 where dm.dimension = ''
 group by dm.day;
comment on view analytics.daily_overview is
  'Daily metrics: one row per closed UTC day with every headline metric as a column (events, signups, DAU/WAU/MAU, subscriptions, MRR in USD).';

create view analytics.events_per_day with (security_invoker = true) as
select dm.day, dm.dimension as event_type, dm.value::bigint as events
  from analytics.daily_metrics dm
 where dm.metric = 'events' and dm.dimension <> '';
comment on view analytics.events_per_day is
  'Events per closed UTC day and event_type.';

create view analytics.signups_per_day with (security_invoker = true) as
select dm.day, dm.value::bigint as signups
  from analytics.daily_metrics dm
 where dm.metric = 'signups' and dm.dimension = '';
comment on view analytics.signups_per_day is
  'user_signup events per closed UTC day.';

create view analytics.active_users_per_day with (security_invoker = true) as
select o.day,
       o.active_users as dau,
       o.weekly_active_users as wau,
       o.monthly_active_users as mau
  from analytics.daily_overview o;
comment on view analytics.active_users_per_day is
  'Distinct signed-in users per closed UTC day (dau), and in the 7 (wau) and 30 (mau) days ending that day.';

create view analytics.subscriptions_per_day with (security_invoker = true) as
select o.day,
       o.active_subscriptions,
       o.new_subscriptions,
       o.churned_subscriptions,
       o.mrr_usd
  from analytics.daily_overview o;
comment on view analytics.subscriptions_per_day is
  'Paying subscriptions at the end of each closed UTC day, users who started or stopped paying that day (plan changes excluded), and MRR in USD.';

create view analytics.weekly_retention with (security_invoker = true) as
with cohorts as (
  select e.user_id,
         date_trunc('week', min(e."timestamp") at time zone 'UTC')::date as cohort_week
    from public.events e
   where e.event_type = 'user_signup' and e.user_id is not null
   group by e.user_id
),
sizes as (
  select c.cohort_week, count(*) as cohort_users from cohorts c group by c.cohort_week
),
weeks as (
  select s.cohort_week, s.cohort_users, g.week_number
    from sizes s
    cross join lateral generate_series(
      0,
      ((date_trunc('week', now() at time zone 'UTC')::date - s.cohort_week) / 7)
    ) as g (week_number)
),
activity as (
  select distinct ua.user_id, date_trunc('week', ua.day)::date as week
    from analytics.user_activity ua
)
select w.cohort_week,
       w.cohort_users,
       w.week_number,
       count(a.user_id) as active_users,
       round(count(a.user_id)::numeric / w.cohort_users, 4) as retention
  from weeks w
  left join cohorts c on c.cohort_week = w.cohort_week
  left join activity a on a.user_id = c.user_id and a.week = w.cohort_week + 7 * w.week_number
 group by w.cohort_week, w.cohort_users, w.week_number;
comment on view analytics.weekly_retention is
  'Weekly retention cohorts: for the users whose signup fell in cohort_week (Monday, UTC), how many were active week_number weeks later, and that share (retention, 0 to 1). Activity comes from closed days.';

do $grants$
declare
  v text;
begin
  foreach v in array array['daily_overview', 'events_per_day', 'signups_per_day', 'active_users_per_day',
                           'subscriptions_per_day', 'weekly_retention']
  loop
    execute format('revoke all on table analytics.%I from public, anon, authenticated, service_role, analyst', v);
    execute format('grant select on table analytics.%I to analyst, authenticated, service_role', v);
  end loop;
end
$grants$;
