-- =======================================================================================
-- public.events partitioned by month of "timestamp", converted in place
-- =======================================================================================
-- Why month: at 1 M events over 90 days, a 90-day report scans 4 partitions (13 by week), a
-- nightly rollup of one day reads one partition either way, and at 100 M events over 12
-- months a month holds ~8 M rows, small enough to drop in well under a second. Week
-- partitions only pay off when retention must be finer than a month (bench/size.ts and
-- docs/SCALING.md have the figures).
--
-- Partitions are made by Beacon itself (private.ensure_event_partitions), on PostgreSQL and
-- on PGlite alike, from this migration and from the nightly job (beacon.maintain_raw_events).
-- pg_partman is not used even where it exists (Supabase ships it): one code path for both
-- databases, no template table to keep in step with RLS and grants, no extension upgrade to
-- follow (pg_partman 4 and 5 differ in their API), and what it would do for Beacon, make
-- months ahead and drop old ones, is thirty lines here.
--
-- Idempotency: a partitioned table cannot have a unique index on id alone (the partition
-- key must be in every unique index), and a retry may carry another timestamp, so the ids
-- live in private.event_ids (unique), filled by a statement trigger: a retried insert fails
-- with 23505 (constraint "events_pkey", as before) whatever timestamp it carries. Ids are
-- kept for private.event_id_horizon_days() days after the first copy was received (35 by
-- default; beacon.settings key event_id_horizon_days), then pruned by the nightly job.
--
-- The conversion: readers go on, writers wait (exclusive lock) while the rows are copied in
-- chunks of 50 000 in ("timestamp", id) order, then the new table takes the old one's name,
-- comments, grants, policies, triggers and views, and the old one is dropped, all in this
-- migration's transaction: a row is copied once or not at all. Writers waiting on the old
-- table look the name up again once the lock is released and insert into the new one.

-- ---------------------------------------------------------------------------------------
-- Where partitions live: a schema no API role can reach
-- ---------------------------------------------------------------------------------------
create schema event_partitions;
comment on schema event_partitions is
  'Beacon: the partitions of public.events (one per UTC month, and a default one). Read and write through public.events only; no API role has any right here.';
revoke all on schema event_partitions from public;

-- ---------------------------------------------------------------------------------------
-- Settings the database itself honours (also under pg_cron)
-- ---------------------------------------------------------------------------------------
create function private.raw_event_setting(key text)
returns integer
language sql
stable
security definer
set search_path = ''
as $$
  -- A value that is not a whole number of days counts as unset (never breaks an insert).
  select case when s.value ~ '^[0-9]{1,6}$' then s.value::integer end
    from beacon.settings s where s.key = raw_event_setting.key
$$;
comment on function private.raw_event_setting(text) is
  'An integer setting of raw-event maintenance from beacon.settings (raw_retention_days, event_id_horizon_days), null when unset.';
revoke all on function private.raw_event_setting(text) from public, anon, authenticated, service_role, analyst;

create function private.event_id_horizon_days()
returns integer
language sql
stable
security definer
set search_path = ''
as $$ select coalesce(private.raw_event_setting('event_id_horizon_days'), 35) $$;
comment on function private.event_id_horizon_days() is
  'How many days after an event is received a retry with its id is still recognised (beacon.settings event_id_horizon_days, default 35).';
revoke all on function private.event_id_horizon_days() from public, anon, authenticated, service_role, analyst;

-- ---------------------------------------------------------------------------------------
-- Partitions
-- ---------------------------------------------------------------------------------------
create function private.ensure_event_partitions(through date, since date default null)
returns integer
language plpgsql
security definer
set search_path = ''
as $$
declare
  today date := (now() at time zone 'UTC')::date;
  m date := date_trunc('month', least(coalesce(since, today), today))::date;
  last_month date := date_trunc('month', through)::date;
  first_month date;
  retention integer := private.raw_event_setting('raw_retention_days');
  name text;
  lo timestamptz;
  hi timestamptz;
  made integer := 0;
begin
  if through is null then
    raise exception 'private.ensure_event_partitions: through must not be null' using errcode = '22023';
  end if;
  perform pg_advisory_xact_lock(hashtext('beacon.ensure_event_partitions'));
  first_month := m;
  -- Earlier months the default partition holds rows of get their own partition too.
  m := least(m, (select date_trunc('month', min(d."timestamp") at time zone 'UTC')::date
                   from event_partitions.events_default d));
  while m <= last_month loop
    name := 'events_' || to_char(m, 'YYYY_MM');
    lo := m::timestamp at time zone 'UTC';
    hi := (m + interval '1 month')::timestamp at time zone 'UTC';
    -- Months entirely older than the raw retention are not made again.
    if to_regclass('event_partitions.' || name) is null
       and (m >= first_month
            or exists (select 1 from event_partitions.events_default d
                        where d."timestamp" >= lo and d."timestamp" < hi))
       and (retention is null or hi > (today - retention)::timestamp at time zone 'UTC') then
      -- Made apart, filled with the default partition's rows of the month (if any), then
      -- attached: the parent is locked only in share update exclusive mode.
      execute format(
        'create table event_partitions.%I (like public.events including defaults including constraints including storage including compression)',
        name);
      execute format(
        'with moved as (delete from event_partitions.events_default d where d."timestamp" >= %L and d."timestamp" < %L returning d.*) insert into event_partitions.%I select * from moved',
        lo, hi, name);
      execute format('alter table public.events attach partition event_partitions.%I for values from (%L) to (%L)',
        name, lo, hi);
      execute format('alter table event_partitions.%I enable row level security', name);
      execute format('revoke all on table event_partitions.%I from public, anon, authenticated, service_role, analyst', name);
      execute format('comment on table event_partitions.%I is %L', name,
        'Beacon: the events of ' || to_char(m, 'YYYY-MM') || ' (UTC). Reach it through public.events.');
      made := made + 1;
    end if;
    m := (m + interval '1 month')::date;
  end loop;
  return made;
end
$$;
comment on function private.ensure_event_partitions(date, date) is
  'Makes the missing monthly partitions of public.events from the month of since (default: this month; earlier when the default partition holds older rows) through the month of through, moving the default partition''s rows of those months into them; skips months entirely older than the raw retention. Returns how many it made. Called by migrations and by beacon.maintain_raw_events.';
revoke all on function private.ensure_event_partitions(date, date) from public, anon, authenticated, service_role, analyst;

-- ---------------------------------------------------------------------------------------
-- The ids seen, for idempotency
-- ---------------------------------------------------------------------------------------
create table private.event_ids (
  id uuid not null,
  received_at timestamptz not null,
  -- Named events_pkey once the old table (whose primary key has that name) is gone.
  constraint event_ids_pkey primary key (id)
);
comment on table private.event_ids is
  'Beacon: the id of every event received in the last private.event_id_horizon_days() days, so that a retry with the same id fails (23505, constraint events_pkey) whatever timestamp it carries. Filled by a trigger on public.events; pruned by beacon.maintain_raw_events.';
revoke all on table private.event_ids from public, anon, authenticated, service_role, analyst;
grant select on table private.event_ids to service_role;
alter table private.event_ids enable row level security;
create policy "The service role checks ids before it inserts"
  on private.event_ids for select to service_role
  using (true);

create function private.record_event_ids()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  insert into private.event_ids (id, received_at)
  select n.id, n.received_at from new_rows n;
  return null;
end
$$;
comment on function private.record_event_ids() is
  'Trigger on public.events: records the new events'' ids; a duplicate id fails the insert with 23505 (constraint events_pkey).';
revoke all on function private.record_event_ids() from public, anon, authenticated, service_role, analyst;

-- ---------------------------------------------------------------------------------------
-- The conversion
-- ---------------------------------------------------------------------------------------
lock table public.events in exclusive mode;

-- Views over events (and over those views), to be made again over the new table.
create temporary table beacon_views on commit drop as
with recursive deps (oid, depth) as (
  select distinct r.ev_class, 1
    from pg_depend d
    join pg_rewrite r on r.oid = d.objid
   where d.classid = 'pg_rewrite'::regclass and d.refobjid = 'public.events'::regclass
     and r.ev_class <> 'public.events'::regclass
  union
  select distinct r.ev_class, deps.depth + 1
    from deps
    join pg_depend d on d.refobjid = deps.oid and d.classid = 'pg_rewrite'::regclass
    join pg_rewrite r on r.oid = d.objid
   where r.ev_class <> deps.oid
)
select c.oid, max(deps.depth) as depth, n.nspname as schema_name, c.relname as view_name,
       pg_get_viewdef(c.oid) as definition, c.reloptions, c.relacl,
       obj_description(c.oid, 'pg_class') as description,
       (select coalesce(array_agg(array[a.attname::text, col_description(c.oid, a.attnum)]), '{}')
          from pg_attribute a
         where a.attrelid = c.oid and a.attnum > 0 and col_description(c.oid, a.attnum) is not null) as column_comments
  from deps
  join pg_class c on c.oid = deps.oid and c.relkind = 'v'
  join pg_namespace n on n.oid = c.relnamespace
 group by c.oid, n.nspname, c.relname, c.reloptions, c.relacl;

do $$
declare
  v record;
begin
  for v in select * from beacon_views order by depth desc loop
    execute format('drop view if exists %I.%I', v.schema_name, v.view_name);
  end loop;
end
$$;

alter table public.events set schema private;
alter table private.events rename to events_unpartitioned;

create table public.events (
  id uuid not null default gen_random_uuid(),
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
) partition by range ("timestamp");

-- The same indexes, per partition. (txid, seq) can no longer be declared unique (the
-- partition key would have to be in it); seq stays unique by its identity sequence.
create index events_delivery_order_idx on public.events (txid, seq);
create index events_timestamp_idx on public.events ("timestamp", id);
create index events_signups_idx on public.events ("timestamp", user_id)
  where event_type = 'user_signup';

create table event_partitions.events_default partition of public.events default;
comment on table event_partitions.events_default is
  'Beacon: events outside every monthly partition (until the nightly job makes theirs). Reach it through public.events.';
alter table event_partitions.events_default enable row level security;
revoke all on table event_partitions.events_default from public, anon, authenticated, service_role, analyst;

-- Every month holding events, and two months ahead.
select private.ensure_event_partitions(
  ((now() at time zone 'UTC')::date + interval '2 months')::date,
  (select (min(e."timestamp") at time zone 'UTC')::date from private.events_unpartitioned e));

-- Copy in bounded chunks, in ("timestamp", id) order (the old events_timestamp_idx).
do $$
declare
  last_ts timestamptz;
  last_id uuid;
  next_ts timestamptz;
  next_id uuid;
  chunk constant integer := 50000;
begin
  select e."timestamp", e.id into last_ts, last_id
    from private.events_unpartitioned e order by e."timestamp", e.id limit 1;
  if last_ts is null then
    return;
  end if;
  insert into public.events (id, seq, event_type, user_id, anonymous_id, payload, "timestamp", received_at, txid)
  overriding system value
  select e.id, e.seq, e.event_type, e.user_id, e.anonymous_id, e.payload, e."timestamp", e.received_at, e.txid
    from private.events_unpartitioned e where e."timestamp" = last_ts and e.id = last_id;
  loop
    select e."timestamp", e.id into next_ts, next_id
      from private.events_unpartitioned e
     where (e."timestamp", e.id) > (last_ts, last_id)
     order by e."timestamp", e.id
     offset chunk - 1 limit 1;
    insert into public.events (id, seq, event_type, user_id, anonymous_id, payload, "timestamp", received_at, txid)
    overriding system value
    select e.id, e.seq, e.event_type, e.user_id, e.anonymous_id, e.payload, e."timestamp", e.received_at, e.txid
      from private.events_unpartitioned e
     where (e."timestamp", e.id) > (last_ts, last_id)
       and (next_ts is null or (e."timestamp", e.id) <= (next_ts, next_id))
     order by e."timestamp", e.id;
    exit when next_ts is null;
    last_ts := next_ts;
    last_id := next_id;
  end loop;
end
$$;

-- The arrival order goes on where it stopped.
select setval(pg_get_serial_sequence('public.events', 'seq'),
              coalesce((select max(e.seq) from private.events_unpartitioned e), 0) + 1, false);

-- Ids received within the horizon.
insert into private.event_ids (id, received_at)
select e.id, e.received_at
  from private.events_unpartitioned e
 where e.received_at >= now() - make_interval(days => private.event_id_horizon_days());

-- Comments, grants, row-level security, policies and triggers as they were.
do $$
declare
  old oid := 'private.events_unpartitioned'::regclass;
  r record;
begin
  execute format('comment on table public.events is %L', obj_description(old, 'pg_class'));
  for r in select a.attname, col_description(old, a.attnum) as description
             from pg_attribute a
            where a.attrelid = old and a.attnum > 0 and not a.attisdropped
              and col_description(old, a.attnum) is not null loop
    execute format('comment on column public.events.%I is %L', r.attname, r.description);
  end loop;
  for r in select p.policyname, p.permissive, p.cmd, p.roles, p.qual, p.with_check
             from pg_policies p
            where p.schemaname = 'private' and p.tablename = 'events_unpartitioned' loop
    execute format('create policy %I on public.events as %s for %s to %s%s%s',
      r.policyname, r.permissive, r.cmd,
      (select string_agg(quote_ident(x), ', ') from unnest(r.roles) as x),
      case when r.qual is not null then ' using (' || r.qual || ')' else '' end,
      case when r.with_check is not null then ' with check (' || r.with_check || ')' else '' end);
  end loop;
  for r in select t.tgname, pg_get_triggerdef(t.oid) as definition
             from pg_trigger t where t.tgrelid = old and not t.tgisinternal loop
    execute replace(r.definition, ' ON private.events_unpartitioned ', ' ON public.events ');
  end loop;
end
$$;

revoke all on table public.events from public, anon, authenticated, service_role, analyst;
grant select on table public.events to authenticated, service_role, analyst;
grant insert (id, event_type, user_id, anonymous_id, payload, "timestamp")
  on table public.events to anon, authenticated, service_role;
alter table public.events enable row level security;

create trigger beacon_record_event_ids
  after insert on public.events
  referencing new table as new_rows
  for each statement execute function private.record_event_ids();

-- The views again, over the new table, with their options, comments and grants.
do $$
declare
  v record;
  g record;
  c text[];
begin
  for v in select * from beacon_views order by depth loop
    execute format('create view %I.%I%s as %s', v.schema_name, v.view_name,
      case when v.reloptions is null then ''
           else ' with (' || array_to_string(v.reloptions, ', ') || ')' end,
      v.definition);
    if v.description is not null then
      execute format('comment on view %I.%I is %L', v.schema_name, v.view_name, v.description);
    end if;
    if cardinality(v.column_comments) > 0 then
      foreach c slice 1 in array v.column_comments loop
        execute format('comment on column %I.%I.%I is %L', v.schema_name, v.view_name, c[1], c[2]);
      end loop;
    end if;
    execute format('revoke all on table %I.%I from public, anon, authenticated, service_role, analyst',
      v.schema_name, v.view_name);
    for g in select a.privilege_type,
                    case when a.grantee = 0 then 'public' else quote_ident(r.rolname) end as grantee
               from aclexplode(v.relacl) as a
               left join pg_roles r on r.oid = a.grantee
              where a.grantee <> a.grantor loop
      execute format('grant %s on table %I.%I to %s', g.privilege_type, v.schema_name, v.view_name, g.grantee);
    end loop;
  end loop;
end
$$;

drop table private.events_unpartitioned;
alter table private.event_ids rename constraint event_ids_pkey to events_pkey;
