-- =======================================================================================
-- Persons: a visitor who browses anonymously and then signs in is one person
-- =======================================================================================
-- An event that carries both a user_id and an anonymous_id links that anonymous id to the
-- user. Every person-level report (funnels, retention, lifecycle, stickiness) counts
-- persons: the user when known, else the anonymous id, with an anonymous id's events (before
-- and after the link) joined to the user it was linked to.
--
-- One anonymous id linked to two users: the FIRST link stored wins (by arrival, as PostHog
-- keeps the first identify); later links of the same anonymous id to another user are
-- ignored, so a shared device never merges two accounts.

create table analytics.person_links (
  anonymous_id text primary key,
  user_id uuid not null,
  linked_at timestamptz not null,
  link_event_id uuid not null
);
comment on table analytics.person_links is
  'Beacon: which user an anonymous id belongs to, from the first stored event that carried both. Maintained by a trigger on public.events; read it to count persons: coalesce(events.user_id, person_links.user_id) or the anonymous id.';
comment on column analytics.person_links.anonymous_id is 'The anonymous id (events.anonymous_id).';
comment on column analytics.person_links.user_id is 'The user it was first linked to (auth.users id).';
comment on column analytics.person_links.linked_at is 'The timestamp of the event that linked them.';
comment on column analytics.person_links.link_event_id is 'The id of the event that linked them.';

create index person_links_user_idx on analytics.person_links (user_id);

revoke all on table analytics.person_links from public, anon, authenticated, service_role, analyst;
grant select on table analytics.person_links to authenticated, service_role, analyst;
alter table analytics.person_links enable row level security;

create policy "Superusers can read person links"
  on analytics.person_links for select to authenticated
  using ((select private.is_superuser()));

create policy "Analysts can read person links"
  on analytics.person_links for select to analyst
  using (true);

-- ---------------------------------------------------------------------------------------
-- The link trigger: one statement per insert statement, reading only the new rows
-- ---------------------------------------------------------------------------------------
create function private.link_persons()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  insert into analytics.person_links (anonymous_id, user_id, linked_at, link_event_id)
  select distinct on (n.anonymous_id) n.anonymous_id, n.user_id, n."timestamp", n.id
    from new_rows n
   where n.user_id is not null and n.anonymous_id is not null
   order by n.anonymous_id, n.seq
  on conflict (anonymous_id) do nothing;
  return null;
end
$$;
comment on function private.link_persons() is
  'Trigger on public.events: records the first user each new anonymous id is seen with.';
revoke all on function private.link_persons() from public, anon, authenticated, service_role, analyst;

create trigger beacon_link_persons
  after insert on public.events
  referencing new table as new_rows
  for each statement execute function private.link_persons();

-- Links from the events stored before this migration, first by arrival.
insert into analytics.person_links (anonymous_id, user_id, linked_at, link_event_id)
select distinct on (e.anonymous_id) e.anonymous_id, e.user_id, e."timestamp", e.id
  from public.events e
 where e.user_id is not null and e.anonymous_id is not null
 order by e.anonymous_id, e.seq
on conflict (anonymous_id) do nothing;

-- ---------------------------------------------------------------------------------------
-- The person of an event, for SQL written by analysts and by the report functions
-- ---------------------------------------------------------------------------------------
create view analytics.person_events
with (security_invoker = true)
as
select coalesce(e.user_id::text, l.user_id::text, e.anonymous_id) as person_id,
       coalesce(e.user_id, l.user_id) as user_id,
       e.id, e.seq, e.event_type, e.anonymous_id, e.payload, e."timestamp", e.received_at
  from public.events e
  left join analytics.person_links l
    on e.user_id is null and l.anonymous_id = e.anonymous_id;
comment on view analytics.person_events is
  'Events with the person who did them: person_id is the user''s id (as text) when the event or its anonymous id''s link names a user, else the anonymous id. Read through RLS as the caller.';

revoke all on table analytics.person_events from public, anon, authenticated, service_role, analyst;
grant select on table analytics.person_events to authenticated, service_role, analyst;
