-- =======================================================================================
-- Signups: every new auth user gets a profile and a user_signup event
-- =======================================================================================

create function private.handle_new_auth_user()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  insert into public.profiles (id, created_at)
  values (new.id, coalesce(new.created_at, now()))
  on conflict (id) do nothing;

  insert into public.events (event_type, user_id, payload, "timestamp")
  values (
    'user_signup',
    new.id,
    jsonb_build_object('provider', coalesce(new.raw_app_meta_data ->> 'provider', 'email')),
    least(coalesce(new.created_at, now()), now())
  );
  return new;
end
$$;
comment on function private.handle_new_auth_user() is
  'Trigger on auth.users: creates the profile and records a user_signup event, however the user registered.';
revoke all on function private.handle_new_auth_user() from public, anon, authenticated, service_role;

create trigger beacon_on_auth_user_created
  after insert on auth.users
  for each row execute function private.handle_new_auth_user();
