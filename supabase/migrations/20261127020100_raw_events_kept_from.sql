-- =======================================================================================
-- analytics.raw_events_kept_from(): where "rollups only" begins, for the dashboard
-- =======================================================================================
-- With a raw-event retention (beacon.settings raw_retention_days,
-- 20261127005010_raw_event_retention.sql), days before the horizon keep their rollups
-- (charts, metrics, persons, revenue) but not their raw events: the dashboard says which
-- part of a range is "rollups only" and the explorer says why it lists nothing there. The
-- horizon is a setting, not a secret: every signed-in role may read it.

grant execute on function private.raw_retention_horizon() to authenticated, analyst;

create function analytics.raw_events_kept_from()
returns date
language sql
stable
set search_path = ''
as $$
  select (private.raw_retention_horizon() at time zone 'UTC')::date
$$;
comment on function analytics.raw_events_kept_from() is
  'The first UTC day whose raw events are kept (raw_retention_days ago), or null when raw events are kept for ever. Before it, only rollups answer: daily charts and reports still do, the event explorer and raw-event breakdowns have nothing.';
revoke all on function analytics.raw_events_kept_from() from public, anon, authenticated, service_role, analyst;
grant execute on function analytics.raw_events_kept_from() to authenticated, service_role, analyst;
