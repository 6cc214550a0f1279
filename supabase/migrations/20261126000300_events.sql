-- =======================================================================================
-- Events: what users of the app did. Append-only.
-- =======================================================================================

create table public.events (
  id uuid primary key default gen_random_uuid(),
  seq bigint generated always as identity,
  event_type text not null check (char_length(event_type) between 1 and 200),
  user_id uuid default auth.uid(),
  anonymous_id text check (anonymous_id is null or char_length(anonymous_id) between 1 and 200),
  payload jsonb not null default '{}'::jsonb
    check (jsonb_typeof(payload) = 'object' and pg_column_size(payload) <= 65536),
  "timestamp" timestamptz not null default now(),
  received_at timestamptz not null default now(),
  txid xid8 not null default pg_current_xact_id(),
  constraint events_actor_check check (user_id is not null or anonymous_id is not null),
  constraint events_timestamp_not_future check ("timestamp" <= received_at + interval '1 day')
);
comment on table public.events is
  'Beacon: one row per thing a user of the app did. Append-only: no API role updates or deletes.';
comment on column public.events.id is
  'The event''s identity and idempotency key: a retried insert with the same id stores nothing new.';
comment on column public.events.seq is
  'Arrival order (assigned at insert, may commit out of order); the cursor for rollups and plugins.';
comment on column public.events.event_type is 'What happened, e.g. page_view, user_signup.';
comment on column public.events.user_id is
  'The auth.users id of who did it (defaults to the signed-in user); null for anonymous events.';
comment on column public.events.anonymous_id is
  'A client-chosen id for a visitor who is not signed in (required when user_id is null).';
comment on column public.events.payload is 'The event''s properties, a JSON object (at most 64 KiB stored).';
comment on column public.events."timestamp" is
  'When it happened, as the client says (at most one day after received_at); defaults to now.';
comment on column public.events.received_at is 'When the database stored it. Set by the server only.';
comment on column public.events.txid is
  'The inserting transaction. Rows whose txid is below the oldest running transaction (pg_snapshot_xmin) can no longer change, so (txid, seq) is a delivery order no later commit can slip in front of.';

create unique index events_delivery_order_idx on public.events (txid, seq);
create index events_timestamp_idx on public.events ("timestamp", id);
create index events_signups_idx on public.events ("timestamp", user_id)
  where event_type = 'user_signup';

-- ---------------------------------------------------------------------------------------
-- Access
-- ---------------------------------------------------------------------------------------
revoke all on table public.events from public, anon, authenticated, service_role, analyst;
grant select on table public.events to authenticated, service_role, analyst;
grant insert (id, event_type, user_id, anonymous_id, payload, "timestamp")
  on table public.events to anon, authenticated, service_role;

alter table public.events enable row level security;

create policy "Anonymous visitors can record anonymous events"
  on public.events for insert to anon
  with check (user_id is null);

create policy "Signed-in users can record their own or anonymous events"
  on public.events for insert to authenticated
  with check ((select auth.uid()) is not null and (user_id is null or user_id = (select auth.uid())));

create policy "Superusers can read events"
  on public.events for select to authenticated
  using ((select private.is_superuser()));

create policy "Analysts can read events"
  on public.events for select to analyst
  using (true);
