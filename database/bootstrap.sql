-- Supabase compatibility bootstrap.
--
-- Recreates, only where they are missing, the roles, schemas and `auth` objects that a
-- Supabase project already has, so that `supabase/migrations/` run unchanged on PGlite and
-- on a plain PostgreSQL 15+. It is applied by Beacon's migration runner before the
-- migrations on every database that is not a Supabase project, and never on Supabase
-- itself (that is why it lives outside `supabase/`). It must be run by a superuser.
-- See ../shared/SUPABASE_NOTES.md for what each object is on Supabase.

-- ---------------------------------------------------------------------------------------
-- Roles
-- ---------------------------------------------------------------------------------------
do $bootstrap$
begin
  if not exists (select 1 from pg_roles where rolname = 'anon') then
    create role anon nologin;
  end if;
  if not exists (select 1 from pg_roles where rolname = 'authenticated') then
    create role authenticated nologin;
  end if;
  if not exists (select 1 from pg_roles where rolname = 'service_role') then
    create role service_role nologin noinherit bypassrls;
  end if;
  if not exists (select 1 from pg_roles where rolname = 'authenticator') then
    create role authenticator login noinherit;
  end if;
end
$bootstrap$;

grant anon, authenticated, service_role to authenticator;
-- The role that runs the migrations (postgres on Supabase, whoever runs this elsewhere)
-- can switch to the API roles per transaction, as PostgREST does.
do $bootstrap$
begin
  execute format('grant anon, authenticated, service_role to %I', current_user);
  if current_user <> 'postgres' and exists (select 1 from pg_roles where rolname = 'postgres') then
    grant anon, authenticated, service_role to postgres;
  end if;
end
$bootstrap$;

-- ---------------------------------------------------------------------------------------
-- Extensions live in schema `extensions`, as on Supabase
-- ---------------------------------------------------------------------------------------
create schema if not exists extensions;
grant usage on schema extensions to public;
create extension if not exists pgcrypto with schema extensions;

-- ---------------------------------------------------------------------------------------
-- The auth schema: the columns of auth.users Beacon and its seed use
-- ---------------------------------------------------------------------------------------
create schema if not exists auth;
grant usage on schema auth to anon, authenticated, service_role;

create table if not exists auth.users (
  instance_id uuid,
  id uuid primary key,
  aud varchar(255),
  role varchar(255),
  email varchar(255) unique,
  encrypted_password varchar(255),
  email_confirmed_at timestamptz,
  last_sign_in_at timestamptz,
  raw_app_meta_data jsonb,
  raw_user_meta_data jsonb,
  created_at timestamptz default now(),
  updated_at timestamptz default now()
);
-- The version at the end tells Beacon's migration runner whether to apply this file again.
comment on table auth.users is
  'Compatibility copy of Supabase Auth''s users table (only the columns Beacon uses). beacon-bootstrap:1';
grant all on table auth.users to service_role;

-- auth.uid(), auth.role(), auth.email(), auth.jwt(): read the claims PostgREST (or Beacon's
-- server) sets for the transaction; '' after a transaction ends, hence the nullif.
create or replace function auth.uid() returns uuid
language sql stable
as $$
  select coalesce(
    nullif(current_setting('request.jwt.claim.sub', true), ''),
    (nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'sub')
  )::uuid
$$;

create or replace function auth.role() returns text
language sql stable
as $$
  select coalesce(
    nullif(current_setting('request.jwt.claim.role', true), ''),
    (nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'role')
  )::text
$$;

create or replace function auth.email() returns text
language sql stable
as $$
  select coalesce(
    nullif(current_setting('request.jwt.claim.email', true), ''),
    (nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'email')
  )::text
$$;

create or replace function auth.jwt() returns jsonb
language sql stable
as $$
  select coalesce(
    nullif(current_setting('request.jwt.claim', true), ''),
    nullif(current_setting('request.jwt.claims', true), '')
  )::jsonb
$$;

grant execute on function auth.uid(), auth.role(), auth.email(), auth.jwt()
  to anon, authenticated, service_role;

-- The migration role may create triggers on auth.users, as postgres may on Supabase.
do $bootstrap$
begin
  if exists (select 1 from pg_roles where rolname = 'postgres') then
    grant usage on schema auth to postgres;
    grant all on table auth.users to postgres;
  end if;
end
$bootstrap$;
