-- =======================================================================================
-- Today's live part: the open hours taken once a minute, only the newest events read live
-- =======================================================================================
-- Issue 11's target: any 90-day dashboard query p50 < 5 ms at 10 M events late in a day.
-- Since the hourly rollup (20261127004200) a day not closed costs its hours not closed,
-- read from the events at every query: late in a day at the 10 M rate the open hour holds
-- about 4,700 events (600 users), read and grouped again by every dashboard query: 1.1-2 ms
-- of each active users, events, by-week and breakdown query (measured on a kept 10 M
-- database; the rest of the query is about as much again), more just before the hourly job.
--
-- Now a job, once a minute (pg_cron 'live_part_snapshot', or Beacon's own scheduler), takes
-- each day not closed, from its first hour not closed to its end: the events per type and
-- the users not among its closed hours' users (analytics.hourly_day_users), counting only
-- the events of transactions older than the oldest one still running when it started
-- (txid < pg_snapshot_xmin: no such transaction can commit later). The live part of a
-- query is then the snapshot plus the events of newer transactions (txid >= that bound:
-- the delivery-order index on public.events (txid) finds them), about a minute of events
-- instead of up to an hour. Exact whatever happens in between:
--   * the snapshot and the newer events are disjoint (split by txid) and together are every
--     event of the range a reader sees;
--   * a snapshot is valid only while the day's closed hours are those it was taken with:
--     any change to analytics.closed_hours of the day (private.close_hour deletes and
--     inserts its hour's row every time it closes or closes again, which is also the only
--     way analytics.hourly_day_users changes) drops the day's snapshot (triggers below,
--     truncate included), and readers of a day without one compute its live part as before;
--   * readers check besides that the snapshot's first hour is still the day's first hour
--     not closed, and (for active users) that the closed hours' set of users is there.
-- The job never waits for a lock long (a run going, a day's hour being closed: left to the
-- next minute; a row lock: lock_timeout 200 ms, then this minute's snapshots are left out),
-- so it cannot deadlock with the hourly or the nightly job. No snapshots are taken while a
-- transaction has been open for 5 minutes (the bound would stay old), and readers ignore
-- one not replaced for 5 minutes (the job stopped): the reads then compute as before.
-- Events deleted after a snapshot stay counted until the next one (a minute), as closed
-- hours keep them until closed again.
--
-- Cost: the job reads each day's open hours once a minute (at most an hour of events once
-- the hourly job runs; the whole day when it does not). Nothing changes for event inserts.

-- ---------------------------------------------------------------------------------------
-- Tables
-- ---------------------------------------------------------------------------------------
create table analytics.live_parts (
  day date primary key,
  from_hour timestamptz not null,
  upto_xid xid8 not null,
  events bigint not null,
  new_users bigint not null,
  taken_at timestamptz not null default now()
);
comment on table analytics.live_parts is
  'Per UTC day not closed: its hours not rolled up yet (from from_hour to the day''s end) as of the last minute''s snapshot, counting only events of transactions below upto_xid. Readers add the events with txid >= upto_xid. Written by analytics.refresh_live_parts(); dropped whenever the day''s closed hours change.';
comment on column analytics.live_parts.day is 'The UTC day.';
comment on column analytics.live_parts.from_hour is 'The day''s first hour not closed when the snapshot was taken; the snapshot covers it to the end of the day (no hour after it was closed).';
comment on column analytics.live_parts.upto_xid is 'The oldest transaction still running when the snapshot was taken (pg_snapshot_xmin): events of older transactions are counted here, the others are read live.';
comment on column analytics.live_parts.events is 'Events counted (all types).';
comment on column analytics.live_parts.new_users is 'Distinct signed-in users counted who are not among the day''s closed hours'' users (the rows of analytics.live_part_users for the day).';
comment on column analytics.live_parts.taken_at is 'When the snapshot was taken.';

create table analytics.live_part_events (
  day date not null references analytics.live_parts (day) on delete cascade,
  event_type text not null,
  events bigint not null,
  primary key (day, event_type)
);
comment on table analytics.live_part_events is
  'The events per type counted by the day''s snapshot in analytics.live_parts.';
comment on column analytics.live_part_events.day is 'The UTC day.';
comment on column analytics.live_part_events.event_type is 'The event type.';
comment on column analytics.live_part_events.events is 'Its events counted.';

create table analytics.live_part_users (
  day date not null references analytics.live_parts (day) on delete cascade,
  user_id uuid not null,
  primary key (day, user_id)
);
comment on table analytics.live_part_users is
  'The signed-in users counted by the day''s snapshot in analytics.live_parts who were not among its closed hours'' users (analytics.hourly_day_users).';
comment on column analytics.live_part_users.day is 'The UTC day.';
comment on column analytics.live_part_users.user_id is 'A user with an event in the snapshot.';

-- The snapshot's users as bitmaps of their person numbers (analytics.person_ids, numbered by
-- the job when new), as private.user_day_bits has closed days' users: the 7- and 30-day
-- windows and calendar buckets holding the day OR them (migration 20261127190000).
create table private.live_part_bits (
  day date not null references analytics.live_parts (day) on delete cascade,
  page integer not null check (page >= 0),
  bits bit varying not null check (length(bits) = 32768),
  primary key (day, page)
);
comment on table private.live_part_bits is
  'Beacon: the users of analytics.live_part_users as pages of 32768 bits over their person numbers (analytics.person_ids, person_id = the user id as text). Written by analytics.refresh_live_parts with them.';
revoke all on table private.live_part_bits from public, anon, authenticated, service_role, analyst;
grant select on table private.live_part_bits to authenticated, service_role, analyst;
alter table private.live_part_bits enable row level security;
create policy live_part_bits_read on private.live_part_bits for select
  to authenticated, service_role, analyst
  using (current_user <> 'authenticated' or (select private.is_superuser()) or (select private.is_analyst()));

-- Access: as the hourly tables (superusers and analysts read; only the job writes).
revoke all on table analytics.live_parts from public, anon, authenticated, service_role, analyst;
grant select on table analytics.live_parts to authenticated, service_role, analyst;
alter table analytics.live_parts enable row level security;
create policy "Superusers and analysts can read live parts"
  on analytics.live_parts for select to authenticated
  using ((select private.is_superuser()) or (select private.is_analyst()));
create policy "Analysts can read live parts"
  on analytics.live_parts for select to analyst
  using (true);

revoke all on table analytics.live_part_events from public, anon, authenticated, service_role, analyst;
grant select on table analytics.live_part_events to authenticated, service_role, analyst;
alter table analytics.live_part_events enable row level security;
create policy "Superusers and analysts can read live part events"
  on analytics.live_part_events for select to authenticated
  using ((select private.is_superuser()) or (select private.is_analyst()));
create policy "Analysts can read live part events"
  on analytics.live_part_events for select to analyst
  using (true);

revoke all on table analytics.live_part_users from public, anon, authenticated, service_role, analyst;
grant select on table analytics.live_part_users to authenticated, service_role, analyst;
alter table analytics.live_part_users enable row level security;
create policy "Superusers and analysts can read live part users"
  on analytics.live_part_users for select to authenticated
  using ((select private.is_superuser()) or (select private.is_analyst()));
create policy "Analysts can read live part users"
  on analytics.live_part_users for select to analyst
  using (true);

-- ---------------------------------------------------------------------------------------
-- A day's snapshot goes when its closed hours change
-- ---------------------------------------------------------------------------------------
create function private.drop_live_part()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  if tg_op = 'TRUNCATE' then
    delete from analytics.live_parts;
  elsif tg_op = 'DELETE' then
    delete from analytics.live_parts l where l.day = (old.hour at time zone 'UTC')::date;
  else
    delete from analytics.live_parts l where l.day = (new.hour at time zone 'UTC')::date;
    if tg_op = 'UPDATE' then
      delete from analytics.live_parts l where l.day = (old.hour at time zone 'UTC')::date;
    end if;
  end if;
  return null;
end
$$;
comment on function private.drop_live_part() is
  'Trigger on analytics.closed_hours: drops the snapshot (analytics.live_parts) of the day of each hour closed, closed again or removed (all of them on truncate).';
revoke all on function private.drop_live_part() from public, anon, authenticated, service_role, analyst;

create trigger beacon_drop_live_part
  after insert or update or delete on analytics.closed_hours
  for each row execute function private.drop_live_part();
create trigger beacon_drop_live_parts
  after truncate on analytics.closed_hours
  for each statement execute function private.drop_live_part();

-- ---------------------------------------------------------------------------------------
-- The subscription metrics of the days not closed, kept while subscriptions do not change
-- ---------------------------------------------------------------------------------------
-- A series of active_subscriptions, mrr_cents, new_subscriptions or churned_subscriptions
-- computes each day not closed from every subscription (private.compute_day): 10-25 ms a
-- day with 26 k subscriptions, whatever the hour. They depend on the subscriptions only (no
-- clock, no events), so the job keeps them per day with the private.revenue_changes value
-- it saw (every write to public.subscriptions, analytics.exchange_rates or
-- analytics.revenue_settings takes a new one: migration 20261127020000); readers use them
-- while that value is current, and compute as before otherwise. The job computes them under
-- a SHARE lock on public.subscriptions (taken without waiting; none: left to the next
-- minute), so that no write it does not see can commit with the value it saw.
create table private.open_day_subscriptions (
  day date primary key,
  change_seen bigint not null,
  taken_at timestamptz not null default now()
);
comment on table private.open_day_subscriptions is
  'Beacon: the days not closed whose subscription metrics private.open_day_subscription_metrics keeps, with the private.revenue_changes value they were computed at (stale once it moves). Written by private.refresh_open_day_subscriptions.';
create table private.open_day_subscription_metrics (
  day date not null references private.open_day_subscriptions (day) on delete cascade,
  metric text not null,
  dimension text not null,
  value numeric not null,
  primary key (day, metric, dimension)
);
comment on table private.open_day_subscription_metrics is
  'Beacon: active_subscriptions, mrr_cents, new_subscriptions and churned_subscriptions of a day not closed, as private.compute_day computes them (every subscription). Written by private.refresh_open_day_subscriptions.';
revoke all on table private.open_day_subscriptions, private.open_day_subscription_metrics
  from public, anon, authenticated, service_role, analyst;
grant select on table private.open_day_subscriptions, private.open_day_subscription_metrics
  to authenticated, service_role, analyst;
alter table private.open_day_subscriptions enable row level security;
alter table private.open_day_subscription_metrics enable row level security;
create policy open_day_subscriptions_read on private.open_day_subscriptions for select
  to authenticated, service_role, analyst
  using (current_user <> 'authenticated' or (select private.is_superuser()) or (select private.is_analyst()));
create policy open_day_subscription_metrics_read on private.open_day_subscription_metrics for select
  to authenticated, service_role, analyst
  using (current_user <> 'authenticated' or (select private.is_superuser()) or (select private.is_analyst()));

create function private.refresh_open_day_subscriptions()
returns integer
language plpgsql
security definer
set search_path = ''
set jit = off
as $$
declare
  today date := (now() at time zone 'UTC')::date;
  seen bigint;
  d date;
  n integer := 0;
begin
  -- Nothing to do (every day kept at the current value): no lock.
  if not exists (
    select 1 from generate_series(0, 7) as g (i)
     where not exists (select 1 from analytics.aggregated_days a where a.day = today - g.i)
       and not exists (select 1 from private.open_day_subscriptions s
                        where s.day = today - g.i
                          and s.change_seen = (select q.last_value from private.revenue_changes q))) then
    return 0;
  end if;
  begin
    lock table public.subscriptions in share mode nowait;
  exception when lock_not_available then
    return 0;
  end;
  seen := (select q.last_value from private.revenue_changes q);
  delete from private.open_day_subscriptions s
   where s.day < today - 7 or s.day > today or s.change_seen <> seen
      or exists (select 1 from analytics.aggregated_days a where a.day = s.day);
  for d in
    select today - g.i from generate_series(0, 7) as g (i)
     where not exists (select 1 from analytics.aggregated_days a where a.day = today - g.i)
       and not exists (select 1 from private.open_day_subscriptions s where s.day = today - g.i)
     order by 1
  loop
    insert into private.open_day_subscriptions (day, change_seen) values (d, seen);
    -- The two families of private.compute_day that read subscriptions, whole.
    insert into private.open_day_subscription_metrics (day, metric, dimension, value)
    select d, c.metric, c.dimension, c.value from private.day_paying_subscriptions(d) c
    union all
    select d, c.metric, c.dimension, c.value from private.day_subscription_changes(d) c;
    n := n + 1;
  end loop;
  return n;
end
$$;
comment on function private.refresh_open_day_subscriptions() is
  'Computes the subscription metrics of the days not closed (of the last 7 and today) whose kept ones are missing or stale (private.open_day_subscriptions), under a SHARE lock on public.subscriptions taken without waiting (none: returns 0). Called by analytics.refresh_live_parts; returns the days computed.';
revoke all on function private.refresh_open_day_subscriptions() from public, anon, authenticated, service_role, analyst;

-- ---------------------------------------------------------------------------------------
-- The closed days before today as trailing ORs of their users' bitmaps
-- ---------------------------------------------------------------------------------------
-- A 7- or 30-day window or a calendar bucket holding a day not closed ORs the bitmaps of its
-- closed days (private.user_day_bits, one per day and page of 32768 person numbers): at the
-- 10 M rate 20-30 pages a day, 50-70 ms for a 30-day window (measured by the liveHours
-- bench). The job keeps, for the last closed day L, the OR of the closed days from L - k + 1
-- to L for every k from 1 to 31, with the aggregated_at of each of the 31 days it read
-- (taken before the bitmaps, so that a day closed again meanwhile makes it stale rather
-- than wrong). private.open_window_users reads the one ORed set instead of a day's each,
-- while those days' aggregated_at are what it saw (migration 20261127190000).
create table private.trailing_user_bits_state (
  singleton boolean primary key default true check (singleton),
  last_day date not null,
  seen timestamptz[] not null,
  computed_at timestamptz not null default now()
);
comment on table private.trailing_user_bits_state is
  'Beacon: the last closed day whose trailing ORs private.trailing_user_bits holds, and the analytics.aggregated_days.aggregated_at of the 31 days up to it (in day order, days not closed left out) when it was computed: stale once they differ. Written by private.refresh_trailing_user_bits.';
create table private.trailing_user_bits (
  span integer not null check (span between 1 and 31),
  page integer not null check (page >= 0),
  bits bit varying not null check (length(bits) = 32768),
  primary key (span, page)
);
comment on table private.trailing_user_bits is
  'Beacon: for the last closed day L of private.trailing_user_bits_state, the signed-in users of the closed days from L - span + 1 to L (the OR of their private.user_day_bits), as pages of 32768 bits over their person numbers. Written by private.refresh_trailing_user_bits.';
revoke all on table private.trailing_user_bits_state, private.trailing_user_bits
  from public, anon, authenticated, service_role, analyst;
grant select on table private.trailing_user_bits_state, private.trailing_user_bits
  to authenticated, service_role, analyst;
alter table private.trailing_user_bits_state enable row level security;
alter table private.trailing_user_bits enable row level security;
create policy trailing_user_bits_state_read on private.trailing_user_bits_state for select
  to authenticated, service_role, analyst
  using (current_user <> 'authenticated' or (select private.is_superuser()) or (select private.is_analyst()));
create policy trailing_user_bits_read on private.trailing_user_bits for select
  to authenticated, service_role, analyst
  using (current_user <> 'authenticated' or (select private.is_superuser()) or (select private.is_analyst()));

create function private.refresh_trailing_user_bits()
returns boolean
language plpgsql
security definer
set search_path = ''
set jit = off
as $$
declare
  today date := (now() at time zone 'UTC')::date;
  last_closed date := (select max(a.day) from analytics.aggregated_days a where a.day < today);
  seen_now timestamptz[];
begin
  if last_closed is null then
    delete from private.trailing_user_bits;
    delete from private.trailing_user_bits_state;
    return false;
  end if;
  -- First what the days are, then their bitmaps: a day closed again in between leaves the
  -- result stale (its aggregated_at moved), never wrong.
  seen_now := array(select a.aggregated_at from analytics.aggregated_days a
                     where a.day between last_closed - 30 and last_closed order by a.day);
  if exists (select 1 from private.trailing_user_bits_state t
              where t.last_day = last_closed and t.seen = seen_now) then
    return false;
  end if;
  delete from private.trailing_user_bits;
  delete from private.trailing_user_bits_state;
  insert into private.trailing_user_bits (span, page, bits)
  select k.span, u.page, bit_or(u.bits)
    from generate_series(1, 31) as k (span)
    join private.user_day_bits u on u.day between last_closed - k.span + 1 and last_closed
   where exists (select 1 from analytics.aggregated_days a where a.day = u.day)
   group by k.span, u.page;
  insert into private.trailing_user_bits_state (last_day, seen) values (last_closed, seen_now);
  return true;
end
$$;
comment on function private.refresh_trailing_user_bits() is
  'Computes private.trailing_user_bits for the last closed day when it is missing or stale (a day of its 31 closed again, or a new day closed). Called by analytics.refresh_live_parts; returns whether it computed.';
revoke all on function private.refresh_trailing_user_bits() from public, anon, authenticated, service_role, analyst;

-- ---------------------------------------------------------------------------------------
-- The job
-- ---------------------------------------------------------------------------------------
create function analytics.refresh_live_parts()
returns integer
language plpgsql
security definer
set search_path = ''
set jit = off
set lock_timeout = '200ms'
as $$
declare
  -- Events of transactions below it are final: counted here; the others are read live.
  bound xid8 := pg_snapshot_xmin(pg_current_snapshot());
  today date := (now() at time zone 'UTC')::date;
  d date;
  lo timestamptz;
  hi timestamptz;
  first_open timestamptz;
  counted bigint;
  added bigint;
  n integer := 0;
begin
  -- One run at a time: a run that finds another one going leaves it the work (it never
  -- waits for a lock, so it can deadlock with nothing).
  if not pg_try_advisory_xact_lock(hashtext('beacon.refresh_live_parts')) then
    return 0;
  end if;
  -- A transaction open for minutes (or prepared and left) keeps the bound old, and the
  -- newer events readers add would be all of them since: no snapshots then, the reads
  -- compute as before. (Sessions of other roles count where the job's owner may see them,
  -- as Supabase's postgres may: pg_read_all_stats.)
  if exists (select 1 from pg_catalog.pg_stat_activity a
              where a.backend_xid is not null and a.xact_start < now() - interval '5 minutes')
     or exists (select 1 from pg_catalog.pg_prepared_xacts p where p.prepared < now() - interval '5 minutes') then
    delete from analytics.live_parts;
    return 0;
  end if;
  begin
  delete from analytics.live_parts l
   where l.day < today - 7 or l.day > today
      or exists (select 1 from analytics.aggregated_days a where a.day = l.day);
  -- The days the hourly rollup keeps (a week and today) that the nightly job has not closed.
  for d in
    select today - g.i from generate_series(0, 7) as g (i)
     where not exists (select 1 from analytics.aggregated_days a where a.day = today - g.i)
     order by 1
  loop
    lo := d::timestamp at time zone 'UTC';
    hi := (d + 1)::timestamp at time zone 'UTC';
    -- The day's closed hours and its set of users hold still while it is taken (closing an
    -- hour takes this lock first). A day whose hour is being closed right now is left as it
    -- is: the closing drops its snapshot, the next run takes it.
    continue when not pg_try_advisory_xact_lock(hashtext('beacon.close_hour'), d - date '2000-01-01');
    delete from analytics.live_parts l where l.day = d;
    select min(lo + g.i * interval '1 hour') into first_open
      from generate_series(0, 23) as g (i)
     where not exists (select 1 from analytics.closed_hours c where c.hour = lo + g.i * interval '1 hour');
    -- All 24 hours closed, a closed hour after the first one not closed, or closed hours
    -- without their set of users (a day the nightly job closed, reopened): none taken (the
    -- day's live part is computed as before).
    continue when first_open is null
      or exists (select 1 from analytics.closed_hours c where c.hour > first_open and c.hour < hi)
      or (first_open > lo and not exists (select 1 from analytics.hourly_day_totals dt where dt.day = d));
    insert into analytics.live_parts (day, from_hour, upto_xid, events, new_users)
    values (d, first_open, bound, 0, 0);
    insert into analytics.live_part_events (day, event_type, events)
    select d, e.event_type, count(*)
      from public.events e
     where e."timestamp" >= first_open and e."timestamp" < hi and e.txid < bound
     group by e.event_type;
    insert into analytics.live_part_users (day, user_id)
    select distinct d, e.user_id
      from public.events e
     where e."timestamp" >= first_open and e."timestamp" < hi and e.txid < bound
       and e.user_id is not null
       and not exists (select 1 from analytics.hourly_day_users du where du.day = d and du.user_id = e.user_id);
    get diagnostics added = row_count;
    -- Their bitmaps, new users numbered first.
    insert into analytics.person_ids (person_id, id)
    select n.person_id, nextval('private.person_id_seq')
      from (select lu.user_id::text collate "C" as person_id
              from analytics.live_part_users lu
             where lu.day = d
               and not exists (select 1 from analytics.person_ids i where i.person_id = lu.user_id::text collate "C")
             order by 1) as n
    on conflict (person_id) do nothing;
    insert into private.live_part_bits (day, page, bits)
    select d, i.id / 32768, private.page_bits(array_agg(i.id % 32768))
      from analytics.live_part_users lu
      join analytics.person_ids i on i.person_id = lu.user_id::text collate "C"
     where lu.day = d
     group by i.id / 32768;
    select coalesce(sum(le.events), 0) into counted from analytics.live_part_events le where le.day = d;
    update analytics.live_parts l set events = counted, new_users = added where l.day = d;
    n := n + 1;
  end loop;
  exception when lock_not_available or deadlock_detected then
    -- A row another job holds (a snapshot its closing drops, a user it numbers): waiting
    -- could deadlock with it (lock_timeout above); this minute's snapshots are left out.
    return 0;
  end;
  -- The closed days' trailing ORs, when a day was closed (again).
  perform private.refresh_trailing_user_bits();
  -- The days' subscription metrics, when subscriptions changed.
  perform private.refresh_open_day_subscriptions();
  return n;
end
$$;
comment on function analytics.refresh_live_parts() is
  'Takes the snapshot of each day not closed (of the last 7 and today): its hours not rolled up yet, events per type and users not among its closed hours'' users, counting events of transactions older than the oldest one running (analytics.live_parts). Run every minute by pg_cron (live_part_snapshot) or Beacon''s scheduler; returns the days taken (0 when another run is going, a lock is held longer than 200 ms, or a transaction has been open for 5 minutes: then none are kept). A day whose hour is being closed is skipped.';
revoke all on function analytics.refresh_live_parts() from public, anon, authenticated, service_role, analyst;
grant execute on function analytics.refresh_live_parts() to service_role;

-- ---------------------------------------------------------------------------------------
-- The job, under pg_cron where it exists (as the hourly job in 20261127004200): every
-- minute, scheduled by name.
-- ---------------------------------------------------------------------------------------
do $cron$
begin
  if not exists (select 1 from pg_extension where extname = 'pg_cron') then
    raise notice 'pg_cron is not available here: live_part_snapshot is not scheduled. Call select analytics.refresh_live_parts() every minute (Beacon''s server does this itself when it runs without pg_cron); without it today''s live part is read from the events as before.';
    return;
  end if;
  perform cron.schedule('live_part_snapshot', '* * * * *', 'select analytics.refresh_live_parts()');
end
$cron$;

-- =======================================================================================
-- Readers: the live part from the snapshot where a valid one exists, as before otherwise
-- =======================================================================================
-- private.open_day_value (the events total) here; private.open_day_metrics (events per
-- type, active users) in migration 20261127190000, with the windows. Both keep their
-- signatures, results, comments and settings (search_path, jit off, no parallel workers:
-- migration 20261127120000); the code after each snapshot branch is 20261127160000's.

-- ---------------------------------------------------------------------------------------
-- private.open_day_value
-- ---------------------------------------------------------------------------------------
create or replace function private.open_day_value(target_day date, only_metric text, only_dimension text)
returns numeric
language plpgsql
stable
set search_path = ''
set jit = off
set max_parallel_workers_per_gather = 0
as $$
declare
  lo timestamptz := target_day::timestamp at time zone 'UTC';
  hi timestamptz := (target_day + 1)::timestamp at time zone 'UTC';
  first_open timestamptz;
  closed_after timestamptz[];
  snap_from timestamptz;
  snap_xid xid8;
  snap_events bigint;
  result numeric;
begin
  if target_day is null or only_metric is null or only_dimension is null then
    raise exception 'private.open_day_value: target_day, only_metric and only_dimension must not be null'
      using errcode = '22004';
  end if;
  if only_metric = 'events' and only_dimension = '' then
    -- The day's snapshot (analytics.refresh_live_parts), if it was taken with the day's
    -- closed hours as they are: the closed hours' totals, the snapshot's count and the
    -- events of the transactions it left out.
    select l.from_hour, l.upto_xid, l.events into snap_from, snap_xid, snap_events
      from analytics.live_parts l
     where l.day = target_day
       -- One the job has not replaced for minutes (the job stopped) is not read.
       and l.taken_at > now() - interval '5 minutes'
       and (select count(*) from analytics.closed_hours c where c.hour >= lo and c.hour < hi)
           = (extract(epoch from l.from_hour - lo) / 3600)::bigint;
    if snap_from is not null then
      select coalesce((select sum(he.events) from analytics.hourly_events he
                        where he.hour >= lo and he.hour < snap_from), 0)
             + snap_events
             + (select count(*) from public.events e
                 where e.txid >= snap_xid and e."timestamp" >= snap_from and e."timestamp" < hi)
        into result;
      return result;
    end if;
    -- All events: the closed hours' totals, and a count of the others' events in one range
    -- (no grouping by type: the index alone may answer).
    -- The first hour not closed (null: all 24 closed) and the closed hours after it.
    select f.first_open,
           coalesce((select array_agg(c.hour) from analytics.closed_hours c
                      where c.hour > f.first_open and c.hour < hi), '{}')
      into first_open, closed_after
      from (select min(lo + g.i * interval '1 hour') as first_open
              from generate_series(0, 23) as g (i)
             where not exists (select 1 from analytics.closed_hours c where c.hour = lo + g.i * interval '1 hour')) as f;
    select coalesce((select sum(he.events) from analytics.hourly_events he
                      where he.hour >= lo and he.hour < hi
                        and exists (select 1 from analytics.closed_hours c where c.hour = he.hour)), 0)
           + coalesce((select count(*) from public.events e
                        where first_open is not null
                          and e."timestamp" >= first_open and e."timestamp" < hi
                          and (cardinality(closed_after) = 0
                               or date_trunc('hour', e."timestamp", 'UTC') <> all (closed_after))), 0)
      into result;
    return result;
  end if;
  select c.value into result
    from private.open_day_metrics(target_day, only_metric) c
   where c.dimension = only_dimension;
  return coalesce(result, 0);
end
$$;
