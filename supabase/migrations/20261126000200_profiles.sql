-- =======================================================================================
-- Profiles: one per auth user, and the superuser flag
-- =======================================================================================

create table public.profiles (
  id uuid primary key references auth.users (id) on delete cascade,
  display_name text check (display_name is null or char_length(display_name) <= 200),
  is_superuser boolean not null default false,
  created_at timestamptz not null default now()
);
comment on table public.profiles is
  'Beacon: one row per auth.users row, created by a trigger on auth.users.';
comment on column public.profiles.id is 'The auth.users id of this person.';
comment on column public.profiles.display_name is 'A name to show; the person may change it.';
comment on column public.profiles.is_superuser is
  'Superusers read all analytics. Only service_role (or the database owner) can change it.';
comment on column public.profiles.created_at is 'When the profile was created (the signup time).';

-- ---------------------------------------------------------------------------------------
-- The superuser check, used by policies everywhere
-- ---------------------------------------------------------------------------------------
create function private.is_superuser()
returns boolean
language sql
stable
security definer
set search_path = ''
as $$
  select coalesce(
    (select p.is_superuser from public.profiles p where p.id = (select auth.uid())),
    false
  )
$$;
comment on function private.is_superuser() is
  'True when the signed-in user (auth.uid()) has a profile marked is_superuser.';
revoke all on function private.is_superuser() from public, anon, authenticated, service_role;
grant execute on function private.is_superuser() to anon, authenticated, service_role, analyst;

-- ---------------------------------------------------------------------------------------
-- Access
-- ---------------------------------------------------------------------------------------
revoke all on table public.profiles from public, anon, authenticated, service_role, analyst;
grant select on table public.profiles to authenticated, analyst;
grant update (display_name) on table public.profiles to authenticated;
grant select, insert, update, delete on table public.profiles to service_role;

alter table public.profiles enable row level security;

create policy "Users can read their own profile"
  on public.profiles for select to authenticated
  using (id = (select auth.uid()));

create policy "Superusers can read every profile"
  on public.profiles for select to authenticated
  using ((select private.is_superuser()));

create policy "Analysts can read every profile"
  on public.profiles for select to analyst
  using (true);

create policy "Users can update their own profile"
  on public.profiles for update to authenticated
  using (id = (select auth.uid()))
  with check (id = (select auth.uid()));
