-- =======================================================================================
-- Schemas and roles Beacon adds to a Supabase project
-- =======================================================================================
-- `analytics` holds the rollups, the read functions and the analysts' views.
-- `private` holds helpers that policies call; it is never exposed over the API.

create extension if not exists pgcrypto with schema extensions;

create schema if not exists analytics;
comment on schema analytics is
  'Beacon: daily rollups, read functions (timeseries, summary, breakdown) and analyst views.';

create schema if not exists private;
comment on schema private is
  'Beacon: helpers used by row-level security policies and triggers. Not exposed over the API.';

-- The analyst role: no login of its own; grant it to analysts' login roles
-- (`grant analyst to alice;`). Read-only on the analytics views and what they read.
do $roles$
begin
  if not exists (select 1 from pg_roles where rolname = 'analyst') then
    create role analyst nologin;
  end if;
end
$roles$;
comment on role analyst is
  'Beacon: read-only access to the analytics views, events, rollups and subscriptions. Grant it to analysts'' login roles.';

revoke all on schema private from public;
grant usage on schema private to anon, authenticated, service_role, analyst;

revoke all on schema analytics from public;
grant usage on schema analytics to authenticated, service_role, analyst;

grant usage on schema public to analyst;
