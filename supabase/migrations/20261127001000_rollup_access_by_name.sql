-- =======================================================================================
-- Access to the rollup tables and the analysts' views, written out table by table
-- =======================================================================================
-- 20261126000600_rollup_tables.sql and 20261126000900_analyst_views.sql made these grants
-- and policies in `do` blocks that looped over table names with format(), so no search for
-- a policy's name found it. Here the generated policies are dropped and each one is created
-- again, under the same name, beside its table with the table's grants. Same rights as
-- before: superusers (and, for the metric definitions, every signed-in user) and analysts
-- read; nobody writes but the aggregation functions (security definer).

-- ---------------------------------------------------------------------------------------
-- analytics.metric_definitions
-- ---------------------------------------------------------------------------------------
revoke all on table analytics.metric_definitions from public, anon, authenticated, service_role, analyst;
grant select on table analytics.metric_definitions to authenticated, service_role, analyst;
alter table analytics.metric_definitions enable row level security;

drop policy "Signed-in users can read metric definitions" on analytics.metric_definitions;
create policy "Signed-in users can read metric definitions"
  on analytics.metric_definitions for select to authenticated
  using (true);

drop policy "Analysts can read metric definitions" on analytics.metric_definitions;
create policy "Analysts can read metric definitions"
  on analytics.metric_definitions for select to analyst
  using (true);

-- ---------------------------------------------------------------------------------------
-- analytics.daily_metrics
-- ---------------------------------------------------------------------------------------
revoke all on table analytics.daily_metrics from public, anon, authenticated, service_role, analyst;
grant select on table analytics.daily_metrics to authenticated, service_role, analyst;
alter table analytics.daily_metrics enable row level security;

drop policy "Superusers can read daily metrics" on analytics.daily_metrics;
create policy "Superusers can read daily metrics"
  on analytics.daily_metrics for select to authenticated
  using ((select private.is_superuser()));

drop policy "Analysts can read daily metrics" on analytics.daily_metrics;
create policy "Analysts can read daily metrics"
  on analytics.daily_metrics for select to analyst
  using (true);

-- ---------------------------------------------------------------------------------------
-- analytics.user_activity
-- ---------------------------------------------------------------------------------------
revoke all on table analytics.user_activity from public, anon, authenticated, service_role, analyst;
grant select on table analytics.user_activity to authenticated, service_role, analyst;
alter table analytics.user_activity enable row level security;

drop policy "Superusers can read user activity" on analytics.user_activity;
create policy "Superusers can read user activity"
  on analytics.user_activity for select to authenticated
  using ((select private.is_superuser()));

drop policy "Analysts can read user activity" on analytics.user_activity;
create policy "Analysts can read user activity"
  on analytics.user_activity for select to analyst
  using (true);

-- ---------------------------------------------------------------------------------------
-- analytics.bucket_active_users
-- ---------------------------------------------------------------------------------------
revoke all on table analytics.bucket_active_users from public, anon, authenticated, service_role, analyst;
grant select on table analytics.bucket_active_users to authenticated, service_role, analyst;
alter table analytics.bucket_active_users enable row level security;

drop policy "Superusers can read bucket active users" on analytics.bucket_active_users;
create policy "Superusers can read bucket active users"
  on analytics.bucket_active_users for select to authenticated
  using ((select private.is_superuser()));

drop policy "Analysts can read bucket active users" on analytics.bucket_active_users;
create policy "Analysts can read bucket active users"
  on analytics.bucket_active_users for select to analyst
  using (true);

-- ---------------------------------------------------------------------------------------
-- analytics.aggregated_days
-- ---------------------------------------------------------------------------------------
revoke all on table analytics.aggregated_days from public, anon, authenticated, service_role, analyst;
grant select on table analytics.aggregated_days to authenticated, service_role, analyst;
alter table analytics.aggregated_days enable row level security;

drop policy "Superusers can read aggregated days" on analytics.aggregated_days;
create policy "Superusers can read aggregated days"
  on analytics.aggregated_days for select to authenticated
  using ((select private.is_superuser()));

drop policy "Analysts can read aggregated days" on analytics.aggregated_days;
create policy "Analysts can read aggregated days"
  on analytics.aggregated_days for select to analyst
  using (true);

-- ---------------------------------------------------------------------------------------
-- analytics.aggregation_runs
-- ---------------------------------------------------------------------------------------
revoke all on table analytics.aggregation_runs from public, anon, authenticated, service_role, analyst;
grant select on table analytics.aggregation_runs to authenticated, service_role, analyst;
alter table analytics.aggregation_runs enable row level security;

drop policy "Superusers can read aggregation runs" on analytics.aggregation_runs;
create policy "Superusers can read aggregation runs"
  on analytics.aggregation_runs for select to authenticated
  using ((select private.is_superuser()));

drop policy "Analysts can read aggregation runs" on analytics.aggregation_runs;
create policy "Analysts can read aggregation runs"
  on analytics.aggregation_runs for select to analyst
  using (true);

-- ---------------------------------------------------------------------------------------
-- The analysts' views (security_invoker: the tables' policies above decide the rows)
-- ---------------------------------------------------------------------------------------
revoke all on table analytics.daily_overview from public, anon, authenticated, service_role, analyst;
grant select on table analytics.daily_overview to analyst, authenticated, service_role;

revoke all on table analytics.events_per_day from public, anon, authenticated, service_role, analyst;
grant select on table analytics.events_per_day to analyst, authenticated, service_role;

revoke all on table analytics.signups_per_day from public, anon, authenticated, service_role, analyst;
grant select on table analytics.signups_per_day to analyst, authenticated, service_role;

revoke all on table analytics.active_users_per_day from public, anon, authenticated, service_role, analyst;
grant select on table analytics.active_users_per_day to analyst, authenticated, service_role;

revoke all on table analytics.subscriptions_per_day from public, anon, authenticated, service_role, analyst;
grant select on table analytics.subscriptions_per_day to analyst, authenticated, service_role;

revoke all on table analytics.weekly_retention from public, anon, authenticated, service_role, analyst;
grant select on table analytics.weekly_retention to analyst, authenticated, service_role;
