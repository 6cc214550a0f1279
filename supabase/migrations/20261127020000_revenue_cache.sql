-- =======================================================================================
-- Revenue reports from a kept copy of the engine's days, recomputed when anything changes
-- =======================================================================================
-- analytics.mrr_movements and analytics.revenue_churn (20261127004110_revenue_reports.sql)
-- ran private.revenue_engine over every subscription on each call: 1.1-1.5 s for 12 months
-- of 30,000 subscriptions, against a 200 ms target. The engine's answer for a day depends
-- only on public.subscriptions, analytics.exchange_rates and analytics.revenue_settings
-- (never on the clock), so it is kept:
--
-- * private.revenue_days holds the engine's rows from 1,101 days ago to 31 days ahead, as
--   the owner computed them (every subscription), with private.revenue_days_state saying
--   which days they cover and which change they saw (private.revenue_changes).
-- * Any insert, update, delete or truncate on those three tables takes a number from the
--   sequence private.revenue_changes (a statement trigger; no row lock, so writers never
--   wait on each other or on readers). A kept copy whose number is not the sequence's last
--   one is stale and is not read.
-- * beacon.refresh_revenue_report() recomputes the copy when it is stale or no longer
--   covers today + 31 days: hourly (pg_cron '15 * * * *', and the embedded scheduler after
--   its hourly rollup) and nightly. It takes SHARE locks on the three tables first, so no
--   write is in flight while it reads the sequence and the data (writers wait for it, about
--   a second at 30,000 subscriptions, once an hour at most when something changed).
-- * private.revenue_trials keeps each customer's first trial and first payment after it,
--   which analytics.trial_conversion reads under the same rule (it compares them with now()
--   itself, so the kept rows never depend on the clock).
-- * private.revenue_days_for(from_day, to_day) answers as private.revenue_engine does: from
--   the copy when it is current, covers [from_day - 1, to_day] and the caller may see every
--   subscription (superusers, analysts, service_role: the engine's own rule); otherwise
--   from the engine. So a change is in the reports at once (computed live until the next
--   refresh), and an ordinary user still gets the engine's zeros.
--
-- private.revenue_engine returns the same rows for a day whatever from_day it is asked
-- with, for the columns the reports read of it (levels are cumulative over all history;
-- the day before from_day is only read for its MRR and paying customers), which is what
-- makes one kept range serve every report range inside it. tests/revenue_test.ts checks
-- the reports against an independent computation both ways (live and kept).

create sequence private.revenue_changes;
select nextval('private.revenue_changes');
comment on sequence private.revenue_changes is
  'Beacon: bumped by every statement that writes public.subscriptions, analytics.exchange_rates or analytics.revenue_settings; private.revenue_days is current only while it saw the last value.';
revoke all on sequence private.revenue_changes from public, anon, authenticated, service_role, analyst;
grant select on sequence private.revenue_changes to authenticated, service_role, analyst;

create table private.revenue_days (
  day date primary key,
  new_c double precision,
  expansion_c double precision,
  contraction_c double precision,
  churn_c double precision,
  reactivation_c double precision,
  new_n bigint,
  churn_n bigint,
  reactivation_n bigint,
  churned_users uuid[],
  mrr double precision,
  paying_customers bigint,
  fx double precision,
  unconverted jsonb
);
comment on table private.revenue_days is
  'Beacon: private.revenue_engine''s rows for every subscription, kept for the revenue reports (see private.revenue_days_state for the days covered and whether they are current). Written only by beacon.refresh_revenue_report().';
alter table private.revenue_days enable row level security;
revoke all on table private.revenue_days from public, anon, authenticated, service_role, analyst;
grant select on table private.revenue_days to authenticated, service_role, analyst;
-- The engine's rule: every subscription for anyone but an ordinary signed-in user, and for
-- superusers among them.
create policy revenue_days_read on private.revenue_days for select
  to authenticated, service_role, analyst
  using (current_user <> 'authenticated' or (select private.is_superuser()) or (select private.is_analyst()));

create table private.revenue_days_state (
  singleton boolean primary key default true check (singleton),
  first_day date not null,
  last_day date not null,
  change_seen bigint not null,
  refreshed_at timestamptz not null default now(),
  refresh_ms integer not null
);
comment on table private.revenue_days_state is
  'Beacon: which days private.revenue_days covers, the private.revenue_changes value it saw, when and how long its last refresh took. No row: nothing kept yet.';
alter table private.revenue_days_state enable row level security;
revoke all on table private.revenue_days_state from public, anon, authenticated, service_role, analyst;
grant select on table private.revenue_days_state to authenticated, service_role, analyst;
create policy revenue_days_state_read on private.revenue_days_state for select
  to authenticated, service_role, analyst
  using (current_user <> 'authenticated' or (select private.is_superuser()) or (select private.is_analyst()));

create table private.revenue_trials (
  user_id uuid primary key,
  trial_start timestamptz not null,
  trial_end timestamptz not null,
  trial_canceled timestamptz,
  paid_at timestamptz
);
comment on table private.revenue_trials is
  'Beacon: per customer with a trial, their FIRST trial (start, end, cancel) and the first instant they paid a positive amount at or after its start (any row, whenever: analytics.trial_conversion keeps it only when it is not after now), kept with private.revenue_days and current under the same rule. Written only by beacon.refresh_revenue_report().';
alter table private.revenue_trials enable row level security;
revoke all on table private.revenue_trials from public, anon, authenticated, service_role, analyst;
grant select on table private.revenue_trials to authenticated, service_role, analyst;
create policy revenue_trials_read on private.revenue_trials for select
  to authenticated, service_role, analyst
  using (current_user <> 'authenticated' or (select private.is_superuser()) or (select private.is_analyst()));

-- ---------------------------------------------------------------------------------------
-- Every write to what the engine reads makes the kept copy stale.
-- ---------------------------------------------------------------------------------------
create function private.revenue_changed()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  perform nextval('private.revenue_changes');
  return null;
end
$$;
comment on function private.revenue_changed() is
  'Statement trigger: takes a number from private.revenue_changes, so private.revenue_days is no longer read until refreshed.';
revoke all on function private.revenue_changed() from public, anon, authenticated, service_role, analyst;

create trigger revenue_changed after insert or update or delete on public.subscriptions
  for each statement execute function private.revenue_changed();
create trigger revenue_changed_truncate after truncate on public.subscriptions
  for each statement execute function private.revenue_changed();
create trigger revenue_changed after insert or update or delete on analytics.exchange_rates
  for each statement execute function private.revenue_changed();
create trigger revenue_changed_truncate after truncate on analytics.exchange_rates
  for each statement execute function private.revenue_changed();
create trigger revenue_changed after insert or update or delete on analytics.revenue_settings
  for each statement execute function private.revenue_changed();
create trigger revenue_changed_truncate after truncate on analytics.revenue_settings
  for each statement execute function private.revenue_changed();

-- ---------------------------------------------------------------------------------------
-- beacon.refresh_revenue_report(): recompute the copy when stale or short
-- ---------------------------------------------------------------------------------------
create function beacon.refresh_revenue_report(force boolean default false)
returns jsonb
language plpgsql
security definer
set search_path = ''
set jit = off
as $$
declare
  started timestamptz := clock_timestamp();
  today date := (now() at time zone 'UTC')::date;
  seen bigint;
  st private.revenue_days_state%rowtype;
  n integer;
begin
  -- No write in flight from here: the sequence and the data read below agree.
  lock table public.subscriptions, analytics.exchange_rates, analytics.revenue_settings in share mode;
  select s.last_value into seen from private.revenue_changes s;
  select * into st from private.revenue_days_state;
  if not force and found and st.change_seen = seen and st.first_day <= today - 1100 and st.last_day >= today + 31 then
    return jsonb_build_object('refreshed', false, 'first_day', st.first_day, 'last_day', st.last_day);
  end if;
  delete from private.revenue_days;
  insert into private.revenue_days
  select * from private.revenue_engine(today - 1100, today + 31);
  get diagnostics n = row_count;
  delete from private.revenue_trials;
  insert into private.revenue_trials (user_id, trial_start, trial_end, trial_canceled, paid_at)
  select ft.user_id, ft.started_at, ft.trial_ends_at, ft.canceled_at,
         (select min(private.paid_from(s.started_at, s.trial_ends_at))
            from public.subscriptions s
           where s.user_id = ft.user_id and s.status <> 'trialing' and s.amount_cents > 0
             and private.paid_from(s.started_at, s.trial_ends_at) >= ft.started_at
             and (s.canceled_at is null or s.canceled_at > private.paid_from(s.started_at, s.trial_ends_at)))
    from (select distinct on (s.user_id) s.user_id, s.started_at, s.trial_ends_at, s.canceled_at
            from public.subscriptions s
           where s.trial_ends_at > s.started_at
           order by s.user_id, s.started_at, s.trial_ends_at) ft;
  delete from private.revenue_days_state;
  insert into private.revenue_days_state (first_day, last_day, change_seen, refresh_ms)
  values (today - 1101, today + 31, seen, (extract(epoch from clock_timestamp() - started) * 1000)::integer);
  return jsonb_build_object('refreshed', true, 'days', n, 'first_day', today - 1101, 'last_day', today + 31,
                            'ms', (extract(epoch from clock_timestamp() - started) * 1000)::integer);
end
$$;
comment on function beacon.refresh_revenue_report(boolean) is
  'Recomputes private.revenue_days (the revenue engine''s days from 1,101 days ago to 31 days ahead, every subscription) and private.revenue_trials when a write made it stale, it no longer reaches today + 31 days, or force. Hourly and nightly; takes SHARE locks on subscriptions, exchange_rates and revenue_settings while it runs. Returns what it did.';
revoke all on function beacon.refresh_revenue_report(boolean) from public, anon, authenticated, service_role, analyst;

-- ---------------------------------------------------------------------------------------
-- private.revenue_days_for: the engine's rows, kept when current, computed otherwise
-- ---------------------------------------------------------------------------------------
create function private.revenue_days_for(from_day date, to_day date)
returns setof private.revenue_days
language plpgsql
stable
set search_path = ''
as $$
begin
  if exists (
       select 1
         from private.revenue_days_state st
        where st.first_day <= from_day - 1 and st.last_day >= to_day
          and st.change_seen = (select s.last_value from private.revenue_changes s))
     and (current_user <> 'authenticated' or (select private.is_superuser()) or (select private.is_analyst())) then
    return query select * from private.revenue_days d where d.day between from_day - 1 and to_day order by d.day;
  else
    return query select * from private.revenue_engine(from_day, to_day) e order by e.day;
  end if;
end
$$;
comment on function private.revenue_days_for(date, date) is
  'The rows private.revenue_engine(from_day, to_day) returns: from private.revenue_days when it is current and covers the range and the caller sees every subscription, else from the engine. As the caller.';
revoke all on function private.revenue_days_for(date, date) from public, anon, authenticated, service_role, analyst;
grant execute on function private.revenue_days_for(date, date) to authenticated, service_role, analyst;

-- ---------------------------------------------------------------------------------------
-- The two reports read through it (same signatures, results and comments).
-- ---------------------------------------------------------------------------------------
create or replace function analytics.mrr_movements(from_day date, to_day date)
returns table (
  day date,
  currency text,
  new_mrr numeric,
  expansion_mrr numeric,
  contraction_mrr numeric,
  churned_mrr numeric,
  reactivation_mrr numeric,
  net_new_mrr numeric,
  fx_adjustment numeric,
  mrr numeric,
  arr numeric,
  paying_customers bigint,
  new_customers bigint,
  churned_customers bigint,
  reactivated_customers bigint,
  arpu numeric,
  unconverted jsonb
)
language plpgsql
stable
set search_path = ''
set jit = off
as $$
#variable_conflict use_column
declare
  rc text := private.reporting_currency();
begin
  perform private.check_revenue_range('analytics.mrr_movements', 'from_day', from_day, 'to_day', to_day, 731);
  return query
  select e.day, rc,
         round((e.new_c / 1200.0)::numeric, 2),
         round((e.expansion_c / 1200.0)::numeric, 2),
         round((e.contraction_c / 1200.0)::numeric, 2),
         round((e.churn_c / 1200.0)::numeric, 2),
         round((e.reactivation_c / 1200.0)::numeric, 2),
         round(((e.new_c + e.expansion_c + e.contraction_c + e.churn_c + e.reactivation_c) / 1200.0)::numeric, 2),
         round((e.fx / 1200.0)::numeric, 2),
         round((e.mrr / 1200.0)::numeric, 2),
         round((e.mrr / 100.0)::numeric, 2),
         e.paying_customers,
         e.new_n,
         e.churn_n,
         e.reactivation_n,
         round((e.mrr / nullif(e.paying_customers, 0) / 1200.0)::numeric, 2),
         e.unconverted
    from private.revenue_days_for(from_day, to_day) e
   where e.day >= from_day
   order by e.day;
end
$$;

create or replace function analytics.revenue_churn(from_month date, to_month date)
returns table (
  month date,
  currency text,
  customers_at_start bigint,
  churned_customers bigint,
  customer_churn_rate numeric,
  mrr_at_start numeric,
  churned_mrr numeric,
  contraction_mrr numeric,
  expansion_mrr numeric,
  revenue_churn_rate numeric,
  net_revenue_churn_rate numeric
)
language plpgsql
stable
set search_path = ''
set jit = off
as $$
#variable_conflict use_column
declare
  rc text := private.reporting_currency();
  first_month date := date_trunc('month', from_month)::date;
  last_month date := date_trunc('month', to_month)::date;
begin
  perform private.check_revenue_range('analytics.revenue_churn', 'from_month', from_month, 'to_month', to_month, 1100);
  return query
  with e as materialized (
    select * from private.revenue_days_for(first_month, (last_month + interval '1 month')::date - 1)
  ),
  months as (
    select g::date as month from generate_series(first_month::timestamp, last_month::timestamp, interval '1 month') g
  ),
  m as (
    select date_trunc('month', e.day)::date as month,
           sum(e.churn_c) as churn_c,
           sum(e.contraction_c) as contraction_c,
           sum(e.expansion_c) as expansion_c
      from e where e.day >= first_month group by 1
  ),
  churned as (
    select date_trunc('month', e.day)::date as month, count(distinct u.u) as churned_n
      from e cross join lateral unnest(e.churned_users) as u (u)
     where e.day >= first_month
     group by 1
  )
  select mo.month, rc,
         s.paying_customers,
         coalesce(ch.churned_n, 0),
         round(100.0 * coalesce(ch.churned_n, 0) / nullif(s.paying_customers, 0), 2),
         round((s.mrr / 1200.0)::numeric, 2),
         round((coalesce(m.churn_c, 0) / 1200.0)::numeric, 2),
         round((coalesce(m.contraction_c, 0) / 1200.0)::numeric, 2),
         round((coalesce(m.expansion_c, 0) / 1200.0)::numeric, 2),
         round((-100.0 * (coalesce(m.churn_c, 0) + coalesce(m.contraction_c, 0)) / nullif(s.mrr, 0))::numeric, 2),
         round((-100.0 * (coalesce(m.churn_c, 0) + coalesce(m.contraction_c, 0) + coalesce(m.expansion_c, 0))
                / nullif(s.mrr, 0))::numeric, 2)
    from months mo
    join e s on s.day = mo.month - 1
    left join m on m.month = mo.month
    left join churned ch on ch.month = mo.month
   order by mo.month;
end
$$;

-- ---------------------------------------------------------------------------------------
-- analytics.trial_conversion: the kept trials when current (same signature and results)
-- ---------------------------------------------------------------------------------------
create or replace function analytics.trial_conversion(from_month date, to_month date)
returns table (
  cohort_month date,
  trials bigint,
  converted bigint,
  converted_in_trial bigint,
  converted_late bigint,
  still_trialing bigint,
  conversion_rate numeric,
  median_days_to_convert numeric
)
language plpgsql
stable
set search_path = ''
set jit = off
as $$
#variable_conflict use_column
declare
  first_month date := date_trunc('month', from_month)::date;
  last_month date := date_trunc('month', to_month)::date;
  kept boolean;
begin
  perform private.check_revenue_range('analytics.trial_conversion', 'from_month', from_month, 'to_month', to_month, 1100);
  kept := exists (select 1 from private.revenue_days_state st
                   where st.change_seen = (select s.last_value from private.revenue_changes s))
          and (current_user <> 'authenticated' or (select private.is_superuser()) or (select private.is_analyst()));
  return query
  with vis as materialized (
    select s.user_id, s.status, s.amount_cents, s.started_at, s.trial_ends_at, s.canceled_at,
           private.paid_from(s.started_at, s.trial_ends_at) as paid_at
      from public.subscriptions s
     where not kept and (current_user <> 'authenticated' or (select private.is_superuser()) or (select private.is_analyst()))
  ),
  first_trial as (
    select distinct on (v.user_id) v.user_id, v.started_at as trial_start, v.trial_ends_at as trial_end,
           v.canceled_at as trial_canceled
      from vis v
     where v.trial_ends_at > v.started_at
     order by v.user_id, v.started_at, v.trial_ends_at
  ),
  first_paid as (
    select ft.user_id, min(v.paid_at) as paid_at
      from first_trial ft
      join vis v on v.user_id = ft.user_id
     where v.status <> 'trialing' and v.amount_cents > 0
       and v.paid_at >= ft.trial_start and v.paid_at <= now()
       and (v.canceled_at is null or v.canceled_at > v.paid_at)
     group by ft.user_id
  ),
  cohorts as (
    select date_trunc('month', ft.trial_start at time zone 'UTC')::date as month, ft.trial_start, ft.trial_end,
           ft.trial_canceled, fp.paid_at
      from first_trial ft left join first_paid fp on fp.user_id = ft.user_id
    union all
    -- Kept: the first payment at or after the trial start, if it is not after now (the
    -- earliest one is after now exactly when none is before).
    select date_trunc('month', t.trial_start at time zone 'UTC')::date, t.trial_start, t.trial_end,
           t.trial_canceled, case when t.paid_at <= now() then t.paid_at end
      from private.revenue_trials t
     where kept
  )
  select g::date,
         count(c.month),
         count(c.paid_at),
         count(c.paid_at) filter (where c.paid_at <= c.trial_end),
         count(c.paid_at) filter (where c.paid_at > c.trial_end),
         count(c.month) filter (where c.paid_at is null and c.trial_end > now()
                                  and (c.trial_canceled is null or c.trial_canceled > now())),
         round(100.0 * count(c.paid_at) / nullif(count(c.month), 0), 2),
         round((percentile_cont(0.5) within group (
                  order by extract(epoch from c.paid_at - c.trial_start) / 86400.0))::numeric, 1)
    from generate_series(first_month::timestamp, last_month::timestamp, interval '1 month') g
    left join cohorts c on c.month = g::date
   group by g
   order by g;
end
$$;

do $cron$
begin
  if exists (select 1 from pg_extension where extname = 'pg_cron') then
    perform cron.schedule('beacon_revenue_report', '15 * * * *', 'select beacon.refresh_revenue_report()');
  end if;
end
$cron$;
