-- =======================================================================================
-- What the dashboard reads: the raw event explorer, the summary as of a past day, and
-- local sign-in
-- =======================================================================================

-- ---------------------------------------------------------------------------------------
-- Raw events, newest first, one keyset page at a time (stable while events keep arriving).
-- As the caller: RLS lets superusers and analysts through.
-- ---------------------------------------------------------------------------------------
create function analytics.events_page(
  of_type text default null,
  of_user uuid default null,
  of_anonymous_id text default null,
  from_ts timestamptz default null,
  to_ts timestamptz default null,
  before_ts timestamptz default null,
  before_id uuid default null,
  page_size integer default 50
)
returns table (
  id uuid,
  event_type text,
  user_id uuid,
  anonymous_id text,
  payload jsonb,
  "timestamp" timestamptz,
  received_at timestamptz
)
language plpgsql
stable
set search_path = ''
set jit = off
as $$
#variable_conflict use_column
begin
  if page_size is null or page_size < 1 or page_size > 1000 then
    raise exception 'analytics.events_page: page_size must be between 1 and 1000' using errcode = '22023';
  end if;
  if (before_ts is null) <> (before_id is null) then
    raise exception 'analytics.events_page: before_ts and before_id go together' using errcode = '22023';
  end if;
  return query
  select e.id, e.event_type, e.user_id, e.anonymous_id, e.payload, e."timestamp", e.received_at
    from public.events e
   where (of_type is null or e.event_type = of_type)
     and (of_user is null or e.user_id = of_user)
     and (of_anonymous_id is null or e.anonymous_id = of_anonymous_id)
     and (from_ts is null or e."timestamp" >= from_ts)
     and (to_ts is null or e."timestamp" < to_ts)
     and (before_ts is null or (e."timestamp", e.id) < (before_ts, before_id))
   order by e."timestamp" desc, e.id desc
   limit page_size;
end
$$;
comment on function analytics.events_page(text, uuid, text, timestamptz, timestamptz, timestamptz, uuid, integer) is
  'Raw events matching the filters, newest first; pass the last row''s timestamp and id as before_ts/before_id for the next page.';

-- ---------------------------------------------------------------------------------------
-- The summary's numbers as they stood at the end of a past UTC day (for "change since").
-- ---------------------------------------------------------------------------------------
create function analytics.summary_as_of(day date)
returns table (
  total_users bigint,
  total_signups bigint,
  active_subscriptions bigint,
  mrr_estimate_usd numeric,
  dau bigint,
  wau bigint,
  mau bigint
)
language plpgsql
stable
set search_path = ''
set jit = off
as $$
#variable_conflict use_column
begin
  if summary_as_of.day is null then
    raise exception 'analytics.summary_as_of: day must not be null' using errcode = '22004';
  end if;
  return query
  select
    (select count(*) from public.profiles p
      where p.created_at < (summary_as_of.day + 1)::timestamp at time zone 'UTC'),
    -- Closed days from the rollup, the others from the events.
    ((select coalesce(sum(dm.value), 0) from analytics.daily_metrics dm
       where dm.metric = 'signups' and dm.dimension = '' and dm.day <= summary_as_of.day)
     + analytics.signups_not_rolled_up(summary_as_of.day))::bigint,
    (select t.value from analytics.timeseries('active_subscriptions', summary_as_of.day, summary_as_of.day) t)::bigint,
    round((select t.value from analytics.timeseries('mrr_cents', summary_as_of.day, summary_as_of.day) t) / 100.0, 2),
    (select t.value from analytics.timeseries('active_users', summary_as_of.day, summary_as_of.day) t)::bigint,
    (select t.value from analytics.timeseries('weekly_active_users', summary_as_of.day, summary_as_of.day) t)::bigint,
    (select t.value from analytics.timeseries('monthly_active_users', summary_as_of.day, summary_as_of.day) t)::bigint;
end
$$;
comment on function analytics.summary_as_of(date) is
  'The numbers of analytics.summary() as they stood at the end of a UTC day.';

revoke all on function analytics.events_page(text, uuid, text, timestamptz, timestamptz, timestamptz, uuid, integer)
  from public, anon, authenticated, service_role;
revoke all on function analytics.summary_as_of(date) from public, anon, authenticated, service_role;
grant execute on function analytics.events_page(text, uuid, text, timestamptz, timestamptz, timestamptz, uuid, integer)
  to authenticated, service_role, analyst;
grant execute on function analytics.summary_as_of(date) to authenticated, service_role, analyst;

-- ---------------------------------------------------------------------------------------
-- Local accounts (embedded and Postgres modes): bcrypt in auth.users.encrypted_password,
-- the column and format Supabase Auth uses. For Beacon's server only.
-- ---------------------------------------------------------------------------------------
create function beacon.authenticate(email text, password text)
returns table (user_id uuid, user_email text, is_superuser boolean)
language plpgsql
security definer
set search_path = ''
as $$
#variable_conflict use_column
declare
  found record;
begin
  select u.id, u.email, u.encrypted_password, coalesce(p.is_superuser, false) as superuser
    into found
    from auth.users u
    left join public.profiles p on p.id = u.id
   where lower(u.email) = lower(authenticate.email)
   limit 1;
  if found.id is null or found.encrypted_password is null or found.encrypted_password = '' then
    -- Spend the same time as a real check, so timing does not tell which emails exist.
    perform extensions.crypt(authenticate.password, '$2a$10$abcdefghijklmnopqrstuu');
    return;
  end if;
  if found.encrypted_password = extensions.crypt(authenticate.password, found.encrypted_password) then
    update auth.users set last_sign_in_at = now() where id = found.id;
    return query select found.id, found.email::text, found.superuser;
  end if;
end
$$;
comment on function beacon.authenticate(text, text) is
  'The user whose email and password match (bcrypt), or no row.';

create function beacon.create_user(email text, password text, superuser boolean default false)
returns uuid
language plpgsql
security definer
set search_path = ''
as $$
declare
  new_id uuid := gen_random_uuid();
begin
  if email is null or email !~ '^[^@\s]+@[^@\s]+$' then
    raise exception 'beacon.create_user: "%" is not an email address', email using errcode = '22023';
  end if;
  if password is null or char_length(password) < 8 then
    raise exception 'beacon.create_user: the password must be at least 8 characters' using errcode = '22023';
  end if;
  if exists (select 1 from auth.users u where lower(u.email) = lower(create_user.email)) then
    raise exception 'beacon.create_user: a user with email % already exists', email using errcode = '23505';
  end if;
  insert into auth.users (instance_id, id, aud, role, email, encrypted_password, email_confirmed_at,
                          raw_app_meta_data, raw_user_meta_data, created_at, updated_at)
  values ('00000000-0000-0000-0000-000000000000', new_id, 'authenticated', 'authenticated', lower(email),
          extensions.crypt(password, extensions.gen_salt('bf', 10)), now(),
          '{"provider": "email", "providers": ["email"]}', '{}', now(), now());
  if superuser then
    update public.profiles set is_superuser = true where id = new_id;
  end if;
  return new_id;
end
$$;
comment on function beacon.create_user(text, text, boolean) is
  'Creates a local account (and so its profile and signup event); a superuser when asked.';

revoke all on function beacon.authenticate(text, text) from public, anon, authenticated, service_role;
revoke all on function beacon.create_user(text, text, boolean) from public, anon, authenticated, service_role;
