-- =======================================================================================
-- private.close_day names itself: in its errors and in its advisory lock's key
-- =======================================================================================
-- It still said `analytics.aggregate_day` (its name before 20261127000400_private_helpers.sql
-- split it out) in its errors and its lock key, so an error raised while
-- analytics.run_daily_aggregation closed a day named a function that run never called, and
-- pg_locks showed a key nobody could find. Same checks, same error codes, same work.
-- The lock key changes from hashtext('beacon.aggregate_day') to hashtext('beacon.close_day'):
-- both callers (analytics.aggregate_day, analytics.run_daily_aggregation) go through here,
-- so every closing of a day still takes the same lock.

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
    raise exception 'private.close_day: day must not be null' using errcode = '22004';
  end if;
  if close_day.day >= today then
    raise exception 'private.close_day: % is not over yet (today is % UTC)', close_day.day, today
      using errcode = '22023', hint = 'Only days before today can be aggregated; today is computed live.';
  end if;

  -- One closing of a given day at a time.
  perform pg_advisory_xact_lock(hashtext('beacon.close_day'), close_day.day - date '2000-01-01');

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
comment on function private.close_day(date) is
  'Recomputes one closed UTC day''s activity and metrics, except the 7- and 30-day windows (see private.refresh_windows). Called by analytics.aggregate_day and analytics.run_daily_aggregation; takes the advisory lock (hashtext(''beacon.close_day''), the day) so one day is closed once at a time.';
-- Only the aggregation entry points (security definer, owned by the migrations' role) call it.
revoke all on function private.close_day(date) from public, anon, authenticated, service_role;
