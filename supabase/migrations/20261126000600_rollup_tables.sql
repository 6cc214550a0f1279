-- =======================================================================================
-- Rollup tables: what the nightly job writes
-- =======================================================================================

create table analytics.metric_definitions (
  metric text primary key,
  kind text not null check (kind in ('sum', 'distinct', 'last')),
  description text not null
);
comment on table analytics.metric_definitions is
  'The metrics in analytics.daily_metrics and how a week or month of them combines: sum (add the days), distinct (distinct users over the whole bucket), last (the value on the bucket''s last day).';

insert into analytics.metric_definitions (metric, kind, description) values
  ('events', 'sum', 'Events that happened that day; dimension: '''' for all, else the event_type.'),
  ('signups', 'sum', 'user_signup events that day.'),
  ('active_users', 'distinct', 'Distinct signed-in users with at least one event that day.'),
  ('weekly_active_users', 'last', 'Distinct users with an event in the 7 days ending that day.'),
  ('monthly_active_users', 'last', 'Distinct users with an event in the 30 days ending that day.'),
  ('active_subscriptions', 'last', 'Paying subscriptions (past trial, not ended) at the end of the day; dimension: '''' or the plan.'),
  ('mrr_cents', 'last', 'Monthly recurring revenue in USD cents at the end of the day (yearly plans count 1/12); dimension: '''' or the plan.'),
  ('new_subscriptions', 'sum', 'Users who started paying that day (plan changes excluded).'),
  ('churned_subscriptions', 'sum', 'Users who stopped paying that day (plan changes excluded).');

create table analytics.daily_metrics (
  day date not null,
  metric text not null references analytics.metric_definitions (metric),
  dimension text not null default '',
  value numeric not null,
  computed_at timestamptz not null default now(),
  primary key (day, metric, dimension)
);
comment on table analytics.daily_metrics is
  'The rollup: one row per closed UTC day, metric and dimension ('''' when none). Written by analytics.aggregate_day().';
comment on column analytics.daily_metrics.day is 'The UTC day.';
comment on column analytics.daily_metrics.metric is 'See analytics.metric_definitions.';
comment on column analytics.daily_metrics.dimension is 'The breakdown value (event_type, plan), or '''' for the total.';
comment on column analytics.daily_metrics.value is 'The metric''s value for that day.';
comment on column analytics.daily_metrics.computed_at is 'When this row was last computed.';
create index daily_metrics_series_idx on analytics.daily_metrics (metric, dimension, day) include (value);

create table analytics.user_activity (
  day date not null,
  user_id uuid not null,
  events integer not null,
  primary key (day, user_id)
);
comment on table analytics.user_activity is
  'Distinct signed-in users per closed UTC day, with their event count: the base of active-user windows and retention.';
create index user_activity_user_idx on analytics.user_activity (user_id, day);

create table analytics.bucket_active_users (
  bucket text not null check (bucket in ('week', 'month')),
  start date not null,
  users bigint not null,
  primary key (bucket, start)
);
comment on table analytics.bucket_active_users is
  'Distinct signed-in users per calendar week (starting Monday) and month, over the closed days of that week or month.';

create table analytics.aggregated_days (
  day date primary key,
  aggregated_at timestamptz not null default now()
);
comment on table analytics.aggregated_days is
  'Closed days: days whose rollup rows are complete. Reads take these from the rollup and compute the rest live.';

create table analytics.aggregation_runs (
  id bigint generated always as identity primary key,
  started_at timestamptz not null,
  finished_at timestamptz not null,
  through_day date not null,
  days_aggregated integer not null,
  snapshot_xmin xid8 not null
);
comment on table analytics.aggregation_runs is
  'One row per run of analytics.run_daily_aggregation(): when, up to which day, how many days, and the oldest transaction still running when it started (events from that one on are looked at again by the next run).';

-- ---------------------------------------------------------------------------------------
-- Access: superusers and analysts read; only the aggregation functions write
-- ---------------------------------------------------------------------------------------
do $grants$
declare
  t text;
begin
  foreach t in array array['metric_definitions', 'daily_metrics', 'user_activity', 'bucket_active_users', 'aggregated_days', 'aggregation_runs']
  loop
    execute format('revoke all on table analytics.%I from public, anon, authenticated, service_role, analyst', t);
    execute format('grant select on table analytics.%I to authenticated, service_role, analyst', t);
    execute format('alter table analytics.%I enable row level security', t);
    if t = 'metric_definitions' then
      execute format('create policy "Signed-in users can read metric definitions" on analytics.%I for select to authenticated using (true)', t);
    else
      execute format('create policy "Superusers can read %s" on analytics.%I for select to authenticated using ((select private.is_superuser()))', replace(t, '_', ' '), t);
    end if;
    execute format('create policy "Analysts can read %s" on analytics.%I for select to analyst using (true)', replace(t, '_', ' '), t);
  end loop;
end
$grants$;
