-- Test helpers used by every pgTAP file: create users, act as a role or a user.
-- This file commits (the others roll back), so the helpers stay for the files after it.
begin;
select plan(1);

create schema if not exists tests;
grant usage on schema tests to public;
grant analyst to postgres;

-- pgTAP keeps its results in temporary tables created by plan(); the roles a test switches
-- to must be able to write them.
create or replace function tests.share_pgtap_tables()
returns void
language plpgsql
as $$
declare
  r record;
begin
  for r in
    select c.relname, c.relkind from pg_class c
     where c.relnamespace = pg_my_temp_schema() and c.relkind in ('r', 'S')
  loop
    execute format('grant all on %s pg_temp.%I to public',
      case r.relkind when 'S' then 'sequence' else 'table' end, r.relname);
  end loop;
end
$$;

-- A new auth user (and so a profile and a user_signup event); superuser when asked.
create or replace function tests.create_user(email text, superuser boolean default false)
returns uuid
language plpgsql
security definer
set search_path = ''
as $$
declare
  new_id uuid := gen_random_uuid();
begin
  insert into auth.users (id, email, aud, role, raw_app_meta_data, created_at)
  values (new_id, email, 'authenticated', 'authenticated', '{"provider": "email"}', now());
  if superuser then
    update public.profiles set is_superuser = true where id = new_id;
  end if;
  return new_id;
end
$$;

-- Act as a signed-in user for the rest of the transaction, as PostgREST does.
create or replace function tests.authenticate_as(user_id uuid)
returns void
language plpgsql
as $$
begin
  perform set_config('role', 'authenticated', true);
  perform set_config('request.jwt.claims',
    json_build_object('sub', user_id, 'role', 'authenticated')::text, true);
end
$$;

-- Act as a role with no signed-in user: anon, service_role or analyst.
create or replace function tests.act_as(role_name text)
returns void
language plpgsql
as $$
begin
  perform set_config('request.jwt.claims', json_build_object('role', role_name)::text, true);
  perform set_config('role', role_name, true);
end
$$;

-- Back to the test's own role.
create or replace function tests.clear_authentication()
returns void
language plpgsql
as $$
begin
  perform set_config('role', 'none', true);
  perform set_config('request.jwt.claims', '', true);
end
$$;

-- Whether every table of a schema has row-level security enabled.
create or replace function tests.rls_enabled(schema_name text)
returns boolean
language sql
as $$
  select coalesce(bool_and(c.relrowsecurity), false)
    from pg_class c
   where c.relnamespace = schema_name::regnamespace and c.relkind in ('r', 'p')
$$;

grant execute on all functions in schema tests to public;

select pass('the test helpers are installed');
select * from finish();
commit;
