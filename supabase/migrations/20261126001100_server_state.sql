-- =======================================================================================
-- Beacon server state: settings and plugin delivery cursors
-- =======================================================================================
-- Schema `beacon` is for Beacon's server only (it connects as the database owner); no API
-- role can read or change it, and it is never exposed over the API.

create schema if not exists beacon;
comment on schema beacon is 'Beacon server internals: settings and plugin cursors. Not exposed over the API.';
revoke all on schema beacon from public;

create table beacon.settings (
  key text primary key,
  value text not null,
  created_at timestamptz not null default now()
);
comment on table beacon.settings is
  'Secrets and settings Beacon generates on first start (the ingest key, the session signing secret).';

create table beacon.plugin_cursors (
  plugin text primary key check (plugin ~ '^[a-z][a-z0-9_]*$'),
  last_txid xid8 not null default '0',
  last_seq bigint not null default 0,
  delivered bigint not null default 0,
  failures integer not null default 0,
  last_error text,
  last_error_at timestamptz,
  last_delivered_at timestamptz,
  updated_at timestamptz not null default now()
);
comment on table beacon.plugin_cursors is
  'Per plugin: the last event delivered, as (txid, seq) in delivery order, and the state of its retries.';

revoke all on table beacon.settings, beacon.plugin_cursors from public, anon, authenticated, service_role, analyst;
alter table beacon.settings enable row level security;
alter table beacon.plugin_cursors enable row level security;

-- ---------------------------------------------------------------------------------------
-- The next events a plugin has not seen, in delivery order. Only events of transactions
-- older than every running one are returned: no commit can later slip in before them.
-- ---------------------------------------------------------------------------------------
create function beacon.events_after(after_txid xid8, after_seq bigint, max_rows integer)
returns table (
  id uuid,
  txid xid8,
  seq bigint,
  event_type text,
  user_id uuid,
  anonymous_id text,
  payload jsonb,
  "timestamp" timestamptz,
  received_at timestamptz
)
language sql
stable
set search_path = ''
as $$
  select e.id, e.txid, e.seq, e.event_type, e.user_id, e.anonymous_id, e.payload, e."timestamp", e.received_at
    from public.events e
   where (e.txid, e.seq) > (after_txid, after_seq)
     and e.txid < pg_snapshot_xmin(pg_current_snapshot())
   order by e.txid, e.seq
   limit max_rows
$$;
comment on function beacon.events_after(xid8, bigint, integer) is
  'Up to max_rows events after (after_txid, after_seq) in delivery order, from finished transactions only.';

-- How many events a plugin has not been sent yet.
create function beacon.plugin_lag(plugin_name text)
returns bigint
language sql
stable
set search_path = ''
as $$
  select count(*)
    from public.events e
    left join beacon.plugin_cursors c on c.plugin = plugin_name
   where (e.txid, e.seq) > (coalesce(c.last_txid, '0'::xid8), coalesce(c.last_seq, 0))
$$;
comment on function beacon.plugin_lag(text) is 'Events stored but not yet delivered to the plugin.';

revoke all on function beacon.events_after(xid8, bigint, integer) from public, anon, authenticated, service_role;
revoke all on function beacon.plugin_lag(text) from public, anon, authenticated, service_role;
