-- =======================================================================================
-- Plugin dead letters: events a plugin's destination refused for good (a 4xx other than
-- 408/429, a payload it rejects), moved aside after a bounded number of attempts so the
-- plugin's cursor goes on. Beacon's server (the database owner) writes and replays them;
-- superusers may read them (as the dashboard does, signed in); nobody else sees them.
-- =======================================================================================

create table beacon.plugin_dead_letters (
  id bigint generated always as identity primary key,
  plugin text not null check (plugin ~ '^[a-z][a-z0-9_]*$'),
  event_id uuid not null,
  event jsonb not null,
  error text not null,
  attempts integer not null check (attempts > 0),
  first_failed_at timestamptz not null,
  last_failed_at timestamptz not null,
  dead_lettered_at timestamptz not null default now(),
  constraint plugin_dead_letters_plugin_event_key unique (plugin, event_id),
  constraint plugin_dead_letters_failure_order check (first_failed_at <= last_failed_at)
);
comment on table beacon.plugin_dead_letters is
  'Events a plugin''s destination refused for good, per plugin: the event as the plugin was given it, the last error, attempts, first and last failure. Replayed by `deno task plugins:replay NAME`.';
comment on column beacon.plugin_dead_letters.event is
  'The event as handed to the plugin (kept whole: raw events may be dropped by retention before a replay).';
comment on column beacon.plugin_dead_letters.attempts is 'Deliveries tried, replays included.';

revoke all on table beacon.plugin_dead_letters from public, anon, authenticated, service_role, analyst;
alter table beacon.plugin_dead_letters enable row level security;

-- Superusers read them (the dashboard's plugin panel, as the signed-in superuser). The
-- schema grants nothing else: every other table in beacon keeps no privilege for
-- authenticated, and every function in beacon has execute revoked from public.
grant usage on schema beacon to authenticated;
grant select on table beacon.plugin_dead_letters to authenticated;
create policy plugin_dead_letters_superusers_read on beacon.plugin_dead_letters
  for select to authenticated
  using ((select private.is_superuser()));
