-- =======================================================================================
-- Person properties: what PostHog SDKs say about a person with $set and $set_once
-- =======================================================================================
-- One row per person: the user (person_id is the user's id as text, user_id set) or an
-- anonymous id (user_id null), the same person_id analytics.person_events gives. Written by
-- the PostHog capture endpoints as service_role through private.apply_person_properties;
-- read under the same rules as profiles: a user their own row, superusers and analysts all.

create table analytics.person_properties (
  person_id text primary key check (char_length(person_id) between 1 and 200),
  user_id uuid references auth.users (id) on delete cascade,
  properties jsonb not null default '{}'
    check (jsonb_typeof(properties) = 'object' and pg_column_size(properties) <= 65536),
  updated_at timestamptz not null default now(),
  constraint person_properties_user_check check (user_id is null or person_id = user_id::text)
);
comment on table analytics.person_properties is
  'Beacon: the properties of each person, from PostHog''s $set (overwrites) and $set_once (only where unset) on captured events; when $identify or alias links an anonymous id to its user, the user takes on the anonymous person''s properties it has not set itself. person_id as in analytics.person_events.';
comment on column analytics.person_properties.person_id is
  'The person: the user''s id as text, or the anonymous id (analytics.person_events.person_id).';
comment on column analytics.person_properties.user_id is 'The user (auth.users id) when the person is one.';
comment on column analytics.person_properties.properties is 'The properties, one JSON object.';
comment on column analytics.person_properties.updated_at is 'When they last changed.';

create index person_properties_user_idx on analytics.person_properties (user_id);

revoke all on table analytics.person_properties from public, anon, authenticated, service_role, analyst;
grant select on table analytics.person_properties to authenticated, analyst;
grant select, insert, update on table analytics.person_properties to service_role;
alter table analytics.person_properties enable row level security;

create policy "Own person properties; superusers and analysts read all"
  on analytics.person_properties for select to authenticated
  using (user_id = (select auth.uid()) or (select private.is_superuser()) or (select private.is_analyst()));

create policy "Analysts can read every person's properties"
  on analytics.person_properties for select to analyst
  using (true);

-- ---------------------------------------------------------------------------------------
-- Applying the changes of a batch, in order
-- ---------------------------------------------------------------------------------------
create function private.apply_person_properties(changes jsonb)
returns void
language plpgsql
security invoker
set search_path = ''
as $$
declare
  c jsonb;
  person text;
  account uuid;
begin
  for c in select value from jsonb_array_elements(changes) with ordinality as t (value, n) order by n
  loop
    person := c ->> 'person_id';
    account := nullif(c ->> 'user_id', '')::uuid;
    -- A link merges the anonymous person in, where the link stored is to this user.
    if c ->> 'merge_from' is not null and account is not null and exists (
      select 1 from analytics.person_links l
       where l.anonymous_id = c ->> 'merge_from' and l.user_id = account
    ) then
      insert into analytics.person_properties as p (person_id, user_id, properties)
      select person, account, a.properties
        from analytics.person_properties a where a.person_id = c ->> 'merge_from'
      on conflict (person_id) do update
        set properties = excluded.properties || p.properties, updated_at = now()
        where pg_column_size(excluded.properties || p.properties) <= 65536;
    end if;
    if jsonb_typeof(c -> 'set_once') = 'object' then
      insert into analytics.person_properties as p (person_id, user_id, properties)
      values (person, account, c -> 'set_once')
      on conflict (person_id) do update
        set properties = excluded.properties || p.properties, updated_at = now()
        where pg_column_size(excluded.properties || p.properties) <= 65536;
    end if;
    if jsonb_typeof(c -> 'set') = 'object' then
      insert into analytics.person_properties as p (person_id, user_id, properties)
      values (person, account, c -> 'set')
      on conflict (person_id) do update
        set properties = p.properties || excluded.properties, updated_at = now()
        where pg_column_size(p.properties || excluded.properties) <= 65536;
    end if;
  end loop;
end
$$;
comment on function private.apply_person_properties(jsonb) is
  'Applies person-property changes in order: [{person_id, user_id, set, set_once, merge_from}], as the PostHog capture endpoints send them after the events are stored. $set overwrites, $set_once fills only what is unset, merge_from (an anonymous id linked to user_id) lends its properties where the user has none. A change that would make a person''s properties larger than 64 KiB stored is skipped.';
revoke all on function private.apply_person_properties(jsonb) from public, anon, authenticated, service_role, analyst;
grant execute on function private.apply_person_properties(jsonb) to service_role;

-- ---------------------------------------------------------------------------------------
-- Which distinct ids are users of the app
-- ---------------------------------------------------------------------------------------
create function private.known_user_ids(ids uuid[])
returns setof uuid
language sql
stable
security definer
set search_path = ''
as $$
  select u.id from auth.users u where u.id = any (ids)
$$;
comment on function private.known_user_ids(uuid[]) is
  'The ids among the given ones that are auth.users ids: a PostHog distinct_id is a user id only then.';
revoke all on function private.known_user_ids(uuid[]) from public, anon, authenticated, service_role, analyst;
grant execute on function private.known_user_ids(uuid[]) to service_role;
