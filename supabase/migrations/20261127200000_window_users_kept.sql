-- =======================================================================================
-- Windows holding a day not closed: kept by the minute job, read with the newer events only
-- =======================================================================================
-- Since 20261127190000 a 7- or 30-day window or a calendar bucket holding a day not closed is
-- counted from bitmaps (private.open_window_users): each call checks every day of the range,
-- ORs the closed days' trailing ORs, the closed hours' and the snapshots' pages, and looks up
-- the newer events' users. About 1.5 ms a call on the kept 10 M database (20:00 UTC
-- simulated), called once per day not closed by a 90-day 7- or 30-day series and twice by
-- active users by week or month: those charts took 5.7-9.4 ms against issue 11's 5.
--
-- Now the minute job keeps, for every such range of the days it snapshots, what does not
-- change until the next snapshot:
--   - private.window_closed / private.window_closed_bits: the range's users apart from its
--     snapshots (closed days, closed hours of the days not closed) as merged pages. They
--     change when an hour or a day is closed, so they are built again about hourly.
--   - private.window_users: the range's users with its snapshots (the bit count of the
--     merged pages ORed with the snapshots' bits), and each snapshot's first hour and bound.
-- A reader then adds only the users of the events newer than the snapshots whose bit is in
-- neither the merged pages nor a snapshot's. A reader checks that what they were computed
-- from holds, without any lock: the merged pages carry the value of a sequence
-- (private.window_changes) that every statement writing what they are built from bumps
-- (statement triggers; a sequence, so writers never wait and a rolled-back write only makes
-- them stale), and the job builds them under SHARE locks on those tables taken without
-- waiting (none: left to the next minute), so no write it does not see can commit with the
-- value it saw; the counts carry each snapshot's taken_at, and a reader checks each
-- snapshot is still that one (a closed hour drops it; the next minute replaces it).
--
-- A first or last bucket of a chart whose days not closed hold no signed-in user's event
-- (days before an app's first event) is now the rollup's count of its closed days
-- (analytics.bucket_active_users) rather than an OR of each closed day's bitmaps.
--
-- Access: as the other bitmaps (superusers, analysts and the service role read them through
-- RLS; readers run as the caller; only the job writes).

-- ---------------------------------------------------------------------------------------
-- Tables
-- ---------------------------------------------------------------------------------------
create sequence private.window_changes;
select nextval('private.window_changes');
comment on sequence private.window_changes is
  'Beacon: bumped by every statement that writes private.user_day_bits, analytics.aggregated_days, private.open_user_bits, private.trailing_user_bits or analytics.closed_hours; the merged pages of private.window_closed hold only while they saw the last value.';
revoke all on sequence private.window_changes from public, anon, authenticated, service_role, analyst;
grant select on sequence private.window_changes to authenticated, service_role, analyst;

create table private.window_closed (
  first_day date not null,
  last_day date not null check (last_day >= first_day),
  change_seen bigint not null,
  built_at timestamptz not null default now(),
  primary key (first_day, last_day)
);
comment on table private.window_closed is
  'Beacon: the ranges of days whose users apart from the minute job''s snapshots (closed days'' private.user_day_bits, closed hours'' private.open_user_bits) private.window_closed_bits keeps merged, with the private.window_changes value they were built at (stale once it moves). Written by private.refresh_window_users.';
create table private.window_closed_bits (
  first_day date not null,
  last_day date not null,
  page integer not null check (page >= 0),
  bits bit varying not null check (length(bits) = 32768),
  primary key (first_day, last_day, page),
  foreign key (first_day, last_day) references private.window_closed (first_day, last_day) on delete cascade
);
-- Read bit by bit for each newer user: kept whole in the row, never compressed.
alter table private.window_closed_bits alter column bits set storage plain;
comment on table private.window_closed_bits is
  'Beacon: for each range of private.window_closed, its users apart from the snapshots as pages of 32768 bits over their person numbers (analytics.person_ids).';
create table private.window_users (
  first_day date not null,
  last_day date not null,
  users bigint not null,
  open_days date[] not null,
  from_hours timestamptz[] not null,
  upto_xids xid8[] not null,
  snap_taken timestamptz[] not null,
  newer_from timestamptz,
  newer_to timestamptz,
  newer_xid xid8,
  taken_at timestamptz not null,
  primary key (first_day, last_day),
  foreign key (first_day, last_day) references private.window_closed (first_day, last_day) on delete cascade
);
comment on table private.window_users is
  'Beacon: the distinct signed-in users of a range of days as of the minute job''s snapshots (its merged pages ORed with the snapshots'' private.live_part_bits), with the days not closed of the range and each one''s snapshot first hour, transaction bound and taken_at (null: every hour of it closed, no snapshot), the range of the newer events (newer_from to newer_to, txid from newer_xid): a reader adds their users while each snapshot is still the one in analytics.live_parts. taken_at is the oldest snapshot''s. Written by private.refresh_window_users every run.';

revoke all on table private.window_closed, private.window_closed_bits, private.window_users
  from public, anon, authenticated, service_role, analyst;
grant select on table private.window_closed, private.window_closed_bits, private.window_users
  to authenticated, service_role, analyst;
alter table private.window_closed enable row level security;
alter table private.window_closed_bits enable row level security;
alter table private.window_users enable row level security;
create policy window_closed_read on private.window_closed for select
  to authenticated, service_role, analyst
  using (current_user <> 'authenticated' or (select private.is_superuser()) or (select private.is_analyst()));
create policy window_closed_bits_read on private.window_closed_bits for select
  to authenticated, service_role, analyst
  using (current_user <> 'authenticated' or (select private.is_superuser()) or (select private.is_analyst()));
create policy window_users_read on private.window_users for select
  to authenticated, service_role, analyst
  using (current_user <> 'authenticated' or (select private.is_superuser()) or (select private.is_analyst()));

-- ---------------------------------------------------------------------------------------
-- What the merged pages are built from changes: the sequence moves
-- ---------------------------------------------------------------------------------------
-- The closed days' users and which days are closed, the closed hours' users and which hours
-- are closed, and the trailing ORs. No row is locked or deleted here: a write never waits
-- for the job or for a reader.
create function private.note_window_change()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  perform nextval('private.window_changes');
  return null;
end
$$;
comment on function private.note_window_change() is
  'Statement trigger on what the minute job''s merged window pages are built from: bumps private.window_changes, so that those pages (private.window_closed) are stale from then on.';
revoke all on function private.note_window_change() from public, anon, authenticated, service_role, analyst;

create trigger beacon_window_change after insert or update or delete or truncate on private.user_day_bits
  for each statement execute function private.note_window_change();
create trigger beacon_window_change after insert or update or delete or truncate on analytics.aggregated_days
  for each statement execute function private.note_window_change();
create trigger beacon_window_change after insert or update or delete or truncate on private.open_user_bits
  for each statement execute function private.note_window_change();
create trigger beacon_window_change after insert or update or delete or truncate on private.trailing_user_bits
  for each statement execute function private.note_window_change();
create trigger beacon_window_change after insert or update or delete or truncate on analytics.closed_hours
  for each statement execute function private.note_window_change();

-- ---------------------------------------------------------------------------------------
-- private.refresh_window_users: the job's part
-- ---------------------------------------------------------------------------------------
create function private.refresh_window_users()
returns integer
language plpgsql
security definer
set search_path = ''
set jit = off
as $$
declare
  today date := (now() at time zone 'UTC')::date;
  seen bigint := (select q.last_value from private.window_changes q);
  r record;
  trail_day date;
  locked boolean := false;
  firsts date[] := '{}';
  lasts date[] := '{}';
  n integer := 0;
begin
  begin
    -- Counts are taken again every run (the snapshots were). Only this job writes them.
    delete from private.window_users;
    -- The days not closed of the job's week and today that can be read: with a snapshot,
    -- or every hour closed with its set of users. Their 7- and 30-day windows and their
    -- calendar week and month (up to today), when every day of the range not closed is such
    -- a day.
    for r in
      with usable as (
        select g.day, l.from_hour, l.upto_xid, l.taken_at
          from (select today - i as day from generate_series(0, 7) as i) as g
          left join analytics.live_parts l on l.day = g.day
         where not exists (select 1 from analytics.aggregated_days a where a.day = g.day)
           and (l.day is not null
                or ((select count(*) from analytics.closed_hours c
                      where c.hour >= g.day::timestamp at time zone 'UTC'
                        and c.hour < (g.day + 1)::timestamp at time zone 'UTC') = 24
                    and exists (select 1 from analytics.hourly_day_totals dt where dt.day = g.day)))
      ),
      ranges as (
        select distinct x.first_day, x.last_day
          from usable u
          cross join lateral (values
            (u.day - 6, u.day),
            (u.day - 29, u.day),
            (date_trunc('week', u.day)::date, least((date_trunc('week', u.day) + interval '6 days')::date, today)),
            (date_trunc('month', u.day)::date, least((date_trunc('month', u.day) + interval '1 month - 1 day')::date, today))
          ) as x (first_day, last_day)
      )
      select rg.first_day, rg.last_day,
             array_agg(u.day order by u.day) as open_days, array_agg(u.from_hour order by u.day) as from_hours,
             array_agg(u.upto_xid order by u.day) as upto_xids, array_agg(u.taken_at order by u.day) as snap_taken,
             coalesce(min(u.taken_at), now()) as taken_at
        from ranges rg
        join usable u on u.day between rg.first_day and rg.last_day
       where not exists (
               select 1 from generate_series(rg.first_day, rg.last_day, interval '1 day') as d (day)
                where not exists (select 1 from analytics.aggregated_days a where a.day = d.day::date)
                  and not exists (select 1 from usable v where v.day = d.day::date))
       group by rg.first_day, rg.last_day
       order by rg.first_day, rg.last_day
    loop
      firsts := firsts || r.first_day;
      lasts := lasts || r.last_day;
      if not exists (select 1 from private.window_closed w
                      where w.first_day = r.first_day and w.last_day = r.last_day and w.change_seen = seen) then
        if not locked then
          -- Nothing they are built from changes until commit, and no change is pending
          -- (none waited for: a write going on leaves it to the next minute); the value
          -- read after the lock is the one they are built at. Those built at an older one
          -- go (with their counts).
          lock table private.user_day_bits, analytics.aggregated_days, private.open_user_bits,
                     private.trailing_user_bits, analytics.closed_hours in share mode nowait;
          seen := (select q.last_value from private.window_changes q);
          delete from private.window_closed w where w.change_seen <> seen;
          locked := true;
        end if;
        -- The closed days from the trailing ORs when they are those from the range's first
        -- day to the last closed day and hold (as private.open_window_users reads them).
        select t.last_day into trail_day
          from private.trailing_user_bits_state t
         where t.last_day between r.first_day and r.last_day
           and t.last_day - r.first_day + 1 <= 31
           and not exists (select 1 from analytics.aggregated_days a
                            where a.day > t.last_day and a.day <= r.last_day)
           and t.seen = array(select a.aggregated_at from analytics.aggregated_days a
                               where a.day between t.last_day - 30 and t.last_day order by a.day);
        delete from private.window_closed w where w.first_day = r.first_day and w.last_day = r.last_day;
        insert into private.window_closed (first_day, last_day, change_seen) values (r.first_day, r.last_day, seen);
        insert into private.window_closed_bits (first_day, last_day, page, bits)
        select r.first_day, r.last_day, p.page, bit_or(p.bits)
          from (select tb.page, tb.bits
                  from private.trailing_user_bits tb
                 where trail_day is not null and tb.span = trail_day - r.first_day + 1
                union all
                select u.page, u.bits
                  from private.user_day_bits u
                 where u.day between r.first_day and r.last_day
                   and exists (select 1 from analytics.aggregated_days a where a.day = u.day)
                   and (trail_day is null or u.day > trail_day)
                union all
                select b.page, b.bits from private.open_user_bits b where b.day = any (r.open_days)) as p
         group by p.page;
      end if;
      insert into private.window_users (first_day, last_day, users, open_days, from_hours, upto_xids, snap_taken,
                                        newer_from, newer_to, newer_xid, taken_at)
      select r.first_day, r.last_day,
             coalesce((select sum(bit_count(m.bits))
                         from (select p.page, bit_or(p.bits) as bits
                                 from (select c.page, c.bits from private.window_closed_bits c
                                        where c.first_day = r.first_day and c.last_day = r.last_day
                                       union all
                                       select b.page, b.bits from private.live_part_bits b
                                        where b.day = any (r.open_days)) as p
                                group by p.page) as m), 0),
             r.open_days, r.from_hours, r.upto_xids, r.snap_taken,
             (select min(o.from_hour) from unnest(r.from_hours) as o (from_hour)),
             (select max(o.day + 1)::timestamp at time zone 'UTC'
                from unnest(r.open_days, r.from_hours) as o (day, from_hour) where o.from_hour is not null),
             (select min(o.upto_xid) from unnest(r.upto_xids) as o (upto_xid)),
             r.taken_at;
      n := n + 1;
    end loop;
    -- Merged pages no range needs any more go.
    delete from private.window_closed w
     where not exists (select 1 from unnest(firsts, lasts) as k (first_day, last_day)
                        where k.first_day = w.first_day and k.last_day = w.last_day);
  exception when lock_not_available or deadlock_detected then
    -- A write going on: this minute's are left out, the readers count from the bitmaps.
    return 0;
  end;
  return n;
end
$$;
comment on function private.refresh_window_users() is
  'The minute job''s kept windows: for each day not closed of the last 7 and today that can be read (a snapshot, or all its hours closed), its 7- and 30-day windows and calendar week and month up to today, the users apart from the snapshots as merged pages (private.window_closed_bits, built when missing) and the users with them (private.window_users). Called by analytics.refresh_live_parts; returns the ranges counted (0 when a write to what they are built from is going on).';
revoke all on function private.refresh_window_users() from public, anon, authenticated, service_role, analyst;

-- ---------------------------------------------------------------------------------------
-- The job: as in 20261127180000, with the kept windows after the trailing ORs
-- ---------------------------------------------------------------------------------------
create or replace function analytics.refresh_live_parts()
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
  -- The windows holding the days taken, kept for the readers.
  perform private.refresh_window_users();
  -- The days' subscription metrics, when subscriptions changed.
  perform private.refresh_open_day_subscriptions();
  return n;
end
$$;
comment on function analytics.refresh_live_parts() is
  'Takes the snapshot of each day not closed (of the last 7 and today): its hours not rolled up yet, events per type and users not among its closed hours'' users, counting events of transactions older than the oldest one running (analytics.live_parts); then keeps the windows holding those days (private.refresh_window_users). Run every minute by pg_cron (live_part_snapshot) or Beacon''s scheduler; returns the days taken (0 when another run is going, a lock is held longer than 200 ms, or a transaction has been open for 5 minutes: then none are kept). A day whose hour is being closed is skipped.';

-- ---------------------------------------------------------------------------------------
-- private.open_window_users: from the kept window when there is one; a calendar bucket
-- whose days not closed hold no signed-in user's event from the rollup's count of its
-- closed days; from the bitmaps otherwise (20261127190000's function, under a new name:
-- private.open_window_users_from_bits)
-- ---------------------------------------------------------------------------------------
create function private.open_window_users_from_bits(first_day date, last_day date)
returns bigint
language plpgsql
stable
set search_path = ''
set jit = off
set max_parallel_workers_per_gather = 0
as $$
declare
  today date := (now() at time zone 'UTC')::date;
  o record;
  open_days date[] := '{}';
  newer uuid[] := '{}';
  trail_day date;
  bare_from date;
  bare_to date;
  result bigint;
begin
  if first_day is null or last_day is null or first_day > last_day or last_day > today then
    return null;
  end if;
  -- Every day of the range not closed: its snapshot must hold (its first hour is the day's
  -- first hour not closed, none closed after it) and its closed hours must have their set of
  -- users; its newer events' users are gathered.
  for o in
    select g.d::date as day, l.from_hour, l.upto_xid,
           (select count(*) from analytics.closed_hours c
             where c.hour >= g.d::timestamp at time zone 'UTC'
               and c.hour < g.d::timestamp at time zone 'UTC' + interval '1 day') as closed,
           exists (select 1 from analytics.hourly_day_totals dt where dt.day = g.d::date) as has_set
      from generate_series(first_day::timestamp, last_day::timestamp, interval '1 day') as g (d)
      left join analytics.live_parts l on l.day = g.d::date and l.taken_at > now() - interval '5 minutes'
     where not exists (select 1 from analytics.aggregated_days a where a.day = g.d::date)
     order by 1
  loop
    if o.from_hour is null and not (o.closed = 24 and o.has_set) then
      -- Without a snapshot (a day before the job's week, or one it has not reached) a day
      -- counts only if nobody signed in has an event on it (a day with no events at all,
      -- usually, before an app's first): such days are checked a run of them at a time.
      if o.has_set then
        return null;
      end if;
      if bare_to = o.day - 1 then
        bare_to := o.day;
        continue;
      end if;
      if bare_from is not null and exists (
           select 1 from public.events e
            where e."timestamp" >= bare_from::timestamp at time zone 'UTC'
              and e."timestamp" < (bare_to + 1)::timestamp at time zone 'UTC'
              and e.user_id is not null) then
        return null;
      end if;
      bare_from := o.day;
      bare_to := o.day;
      continue;
    end if;
    if o.from_hour is null then
      -- Every hour of it closed (a day the nightly job has not reached yet): its closed
      -- hours' users are all its users.
      open_days := open_days || o.day;
      continue;
    end if;
    if o.closed <> (extract(epoch from o.from_hour - o.day::timestamp at time zone 'UTC') / 3600)::bigint
       or (o.closed > 0 and not o.has_set) then
      return null;
    end if;
    open_days := open_days || o.day;
    newer := newer || array(
      select distinct e.user_id
        from public.events e
       where e.txid >= o.upto_xid and e."timestamp" >= o.from_hour
         and e."timestamp" < (o.day + 1)::timestamp at time zone 'UTC'
         and e.user_id is not null);
  end loop;
  if bare_from is not null and exists (
       select 1 from public.events e
        where e."timestamp" >= bare_from::timestamp at time zone 'UTC'
          and e."timestamp" < (bare_to + 1)::timestamp at time zone 'UTC'
          and e.user_id is not null) then
    return null;
  end if;

  -- The closed days of the range from the job's trailing ORs when they are those from its
  -- first day to the last closed day and the ORs hold (migration 20261127180000); else each
  -- closed day's bitmaps.
  select t.last_day into trail_day
    from private.trailing_user_bits_state t
   where t.last_day between open_window_users_from_bits.first_day and open_window_users_from_bits.last_day
     and t.last_day - open_window_users_from_bits.first_day + 1 <= 31
     and not exists (select 1 from analytics.aggregated_days a
                      where a.day > t.last_day and a.day <= open_window_users_from_bits.last_day)
     and t.seen = array(select a.aggregated_at from analytics.aggregated_days a
                         where a.day between t.last_day - 30 and t.last_day order by a.day);

  with pages as (
    select tb.page, tb.bits
      from private.trailing_user_bits tb
     where trail_day is not null and tb.span = trail_day - first_day + 1
    union all
    select u.page, u.bits
      from private.user_day_bits u
     where trail_day is null
       and u.day between first_day and last_day
       and exists (select 1 from analytics.aggregated_days a where a.day = u.day)
    union all
    select b.page, b.bits from private.open_user_bits b where b.day = any (open_days)
    union all
    select b.page, b.bits from private.live_part_bits b where b.day = any (open_days)
  ),
  merged as materialized (
    select p.page, bit_or(p.bits) as bits from pages p group by p.page
  )
  select coalesce((select sum(bit_count(m.bits)) from merged m), 0)
         -- The newer events' users whose bit is not set (or who have no number yet).
         + (select count(*)
              -- Their text form computed here (offset 0): under RLS the look-up below may
              -- use the index only with a leakproof comparison (the uuid-to-text cast is
              -- not), else it reads every person number.
              from (select distinct x.user_id::text collate "C" as person_id
                      from unnest(newer) as x (user_id)
                    offset 0) as n
              left join analytics.person_ids i on i.person_id = n.person_id
             where i.id is null
                or not coalesce((select get_bit(m.bits, i.id % 32768) = 1 from merged m where m.page = i.id / 32768), false))
    into result;
  return result;
end
$$;
revoke all on function private.open_window_users_from_bits(date, date) from public, anon, authenticated, service_role, analyst;
grant execute on function private.open_window_users_from_bits(date, date) to authenticated, service_role, analyst;
comment on function private.open_window_users_from_bits(date, date) is
  'Distinct signed-in users with an event from first_day to last_day (UTC, up to today) from bitmaps: closed days'' (the minute job''s trailing ORs private.trailing_user_bits while they hold, else private.user_day_bits), the closed hours'' of the days not closed (private.open_user_bits) and their snapshots'' (private.live_part_bits), plus the users of the events newer than each snapshot. Null when a day not closed has no snapshot that holds: count otherwise. As the caller (through RLS). Called by private.open_window_users when the job keeps no such range (migration 20261127200000).';

create or replace function private.open_window_users(first_day date, last_day date)
returns bigint
language plpgsql
stable
set search_path = ''
set jit = off
set max_parallel_workers_per_gather = 0
as $$
declare
  w record;
  newer uuid[];
  result bigint;
  bucket_kind text;
  closed_days integer;
  bare_from date;
  bare_to date;
begin
  select k.users, k.open_days, k.from_hours, k.upto_xids, k.newer_from, k.newer_to, k.newer_xid into w
    from private.window_users k
    join private.window_closed c on c.first_day = k.first_day and c.last_day = k.last_day
   where k.first_day = open_window_users.first_day and k.last_day = open_window_users.last_day
     -- One the job has not replaced for minutes (the job stopped) is not read.
     and k.taken_at > now() - interval '5 minutes'
     -- Its merged pages built from what is there now (nothing written since).
     and c.change_seen = (select q.last_value from private.window_changes q)
     -- Each of its snapshots still the one in analytics.live_parts (one closing an hour of
     -- the day dropped it; the next minute's replaced it).
     and not exists (select 1 from unnest(k.open_days, k.from_hours, k.snap_taken) as o (day, from_hour, taken)
                      where o.from_hour is not null
                        and not exists (select 1 from analytics.live_parts l
                                         where l.day = o.day and l.from_hour = o.from_hour and l.taken_at = o.taken));
  if found then
    -- The kept count, plus the users of the events newer than the snapshots who are in
    -- neither the merged pages nor a snapshot's bits (or have no number yet). The newer
    -- events in one read (the txid index, one range over the days' partitions), each kept
    -- when newer than its own day's snapshot.
    newer := array(
      select distinct e.user_id
        from public.events e
       where e.txid >= w.newer_xid and e."timestamp" >= w.newer_from and e."timestamp" < w.newer_to
         and e.user_id is not null
         and exists (select 1 from unnest(w.open_days, w.from_hours, w.upto_xids) as o (day, from_hour, upto_xid)
                      where e."timestamp" >= o.from_hour
                        and e."timestamp" < (o.day + 1)::timestamp at time zone 'UTC'
                        and e.txid >= o.upto_xid));
    if cardinality(newer) = 0 then
      return w.users;
    end if;
    -- Their person numbers, then per page of them one read of the page's bits (the merged
    -- pages' ORed with the snapshots').
    with ids as materialized (
      select i.id
        -- Their text form computed here (offset 0): under RLS the look-up below may use the
        -- index only with a leakproof comparison (the uuid-to-text cast is not).
        from (select x.user_id::text collate "C" as person_id from unnest(newer) as x (user_id) offset 0) as n
        left join analytics.person_ids i on i.person_id = n.person_id
    ),
    by_page as (
      select d.id / 32768 as page, array_agg((d.id % 32768)::integer) as positions
        from ids d where d.id is not null group by 1
    )
    select w.users
           + (select count(*) from ids d where d.id is null)
           + coalesce((select sum((select count(*) from unnest(g.positions) as q (pos)
                                    where coalesce(get_bit(g.bits, q.pos), 0) = 0))
                         from (select p.positions,
                                      (select bit_or(k.bits)
                                         from (select c.bits from private.window_closed_bits c
                                                where c.first_day = open_window_users.first_day
                                                  and c.last_day = open_window_users.last_day and c.page = p.page
                                               union all
                                               select l.bits from private.live_part_bits l
                                                where l.day = any (w.open_days) and l.page = p.page) as k) as bits
                                 from by_page p) as g), 0)
      into result;
    return result;
  end if;

  -- A whole calendar week or month: when its days not closed (up to today) are one run
  -- without a signed-in user's event, its users are its closed days' (kept by the nightly
  -- job in analytics.bucket_active_users, none when it has no row).
  bucket_kind := case
    when first_day = date_trunc('week', first_day)::date and last_day = first_day + 6 then 'week'
    when first_day = date_trunc('month', first_day)::date
         and last_day = (date_trunc('month', first_day) + interval '1 month - 1 day')::date then 'month'
  end;
  if bucket_kind is not null and last_day < (now() at time zone 'UTC')::date then
    select min(g.d)::date, max(g.d)::date into bare_from, bare_to
      from generate_series(first_day::timestamp, last_day::timestamp, interval '1 day') as g (d)
     where not exists (select 1 from analytics.aggregated_days a where a.day = g.d::date);
    select count(*) into closed_days
      from analytics.aggregated_days a where a.day between first_day and last_day;
    if bare_from is not null
       and not exists (select 1 from analytics.aggregated_days a where a.day between bare_from and bare_to)
       and not exists (select 1 from public.events e
                        where e."timestamp" >= bare_from::timestamp at time zone 'UTC'
                          and e."timestamp" < (bare_to + 1)::timestamp at time zone 'UTC'
                          and e.user_id is not null) then
      return coalesce((select c.users from analytics.bucket_active_users c
                        where c.bucket = bucket_kind and c.start = first_day
                          and closed_days > 0), 0);
    end if;
  end if;

  return private.open_window_users_from_bits(first_day, last_day);
end
$$;
comment on function private.open_window_users(date, date) is
  'Distinct signed-in users with an event from first_day to last_day (UTC, up to today): from the minute job''s kept count for the range (private.window_users) plus the users of the events newer than its snapshots; a calendar week or month whose days not closed hold no signed-in user''s event from analytics.bucket_active_users; else private.open_window_users_from_bits (null when it cannot answer: count otherwise). As the caller (through RLS).';
revoke all on function private.open_window_users(date, date) from public, anon, authenticated, service_role, analyst;
grant execute on function private.open_window_users(date, date) to authenticated, service_role, analyst;

-- ---------------------------------------------------------------------------------------
-- analytics.timeseries: as in 20261127190000, each calendar bucket's end computed once and
-- the count from the users of the days behind a function
-- ---------------------------------------------------------------------------------------
-- Measured on the kept 10 M database (perf): a series of distinct users by week or month
-- compared each bucket with every closed day through a text-to-interval cast repeated for
-- each (0.3 ms a bucket, about 4 ms a query); and its fallback, the count of
-- private.user_days (a SQL function, inlined), was planned and its executor state built on
-- every call, though no bucket needed it: a third of the query's time went to zeroing the
-- hash table sized for the millions of rows the planner expects from it.
create function private.count_user_days(first_day date, last_day date)
returns bigint
language plpgsql
stable
set search_path = ''
as $$
begin
  return (select count(*)
            from (select ud.user_id from private.user_days(first_day, last_day) ud group by ud.user_id) as distinct_users);
end
$$;
comment on function private.count_user_days(date, date) is
  'The distinct signed-in users from first_day to last_day counted from private.user_days (as the caller, through RLS): the fallback of analytics.timeseries''s calendar buckets, planned only when called.';
revoke all on function private.count_user_days(date, date) from public, anon, authenticated, service_role, analyst;
grant execute on function private.count_user_days(date, date) to authenticated, service_role, analyst;

create or replace function analytics.timeseries(
  metric text,
  from_day date,
  to_day date,
  bucket text default 'day',
  dimension text default ''
)
returns table (bucket_start date, value numeric)
language plpgsql
stable
set search_path = ''
set jit = off
as $$
#variable_conflict use_column
declare
  metric_kind text;
  today date := (now() at time zone 'UTC')::date;
begin
  if timeseries.metric is null or from_day is null or to_day is null or bucket is null
     or timeseries.dimension is null then
    raise exception 'analytics.timeseries: metric, from_day, to_day, bucket and dimension must not be null'
      using errcode = '22004';
  end if;
  select md.kind into metric_kind from analytics.metric_definitions md where md.metric = timeseries.metric;
  if metric_kind is null then
    raise exception 'analytics.timeseries: unknown metric "%"', timeseries.metric
      using errcode = '22023',
            hint = 'Use one of: ' || (select string_agg(md.metric, ', ' order by md.metric) from analytics.metric_definitions md) || '.';
  end if;
  if bucket not in ('day', 'week', 'month') then
    raise exception 'analytics.timeseries: unknown bucket "%"', bucket
      using errcode = '22023', hint = 'Use day, week or month.';
  end if;
  if from_day > to_day then
    raise exception 'analytics.timeseries: from_day (%) is after to_day (%)', from_day, to_day
      using errcode = '22023';
  end if;
  if to_day - from_day > 3660 then
    raise exception 'analytics.timeseries: the range from % to % is longer than 10 years', from_day, to_day
      using errcode = '22023', hint = 'Ask for at most 3661 days at a time.';
  end if;

  if metric_kind = 'distinct' and bucket <> 'day' then
    -- Distinct users over each whole calendar bucket: from the rollup when every day of it
    -- is closed, computed live otherwise (the current week or month).
    return query
    with buckets as (
      -- Each bucket's first day after it computed once here (a text-to-interval cast is not
      -- cheap to repeat for every closed day compared).
      select s.start, (s.start + ('1 ' || timeseries.bucket)::interval)::date as stop
        from (select distinct date_trunc(timeseries.bucket, (from_day + g.i)::timestamp)::date as start
                from generate_series(0, to_day - from_day) as g (i)) as s
      offset 0
    )
    select b.start,
           case
             when b.start > today then 0::numeric
             when (select count(*) from analytics.aggregated_days a
                    where a.day >= b.start and a.day < b.stop)
                  = b.stop - b.start
               then coalesce((select c.users::numeric from analytics.bucket_active_users c
                               where c.bucket = timeseries.bucket and c.start = b.start), 0)
             -- From the bitmaps where every day of it not closed has a snapshot, else from
             -- the users of its days.
             else coalesce(
                    private.open_window_users(b.start, least(b.stop - 1, today))::numeric,
                    private.count_user_days(b.start, least(b.stop - 1, today))::numeric)
           end
      from buckets b
     order by b.start;
    return;
  end if;

  return query
  with closed_days as (
    -- The closed days of the range with their value (0 when the rollup has no row): one
    -- range read of each table.
    select a.day, coalesce(dm.value, 0) as value
      from analytics.aggregated_days a
      left join (
        select dm.day, dm.value
          from analytics.daily_metrics dm
         where dm.metric = timeseries.metric and dm.dimension = timeseries.dimension
           and dm.day between from_day and to_day
      ) as dm on dm.day = a.day
     where a.day between from_day and least(to_day, today)
  ),
  per_day as materialized (
    -- Materialized: each day's value computed once, though both aggregates below read it.
    select d.day,
           case
             when d.day > today then null
             when c.day is not null then c.value
             else private.open_day_value(d.day, timeseries.metric, timeseries.dimension)
           end as value
      from (select from_day + g.i as day from generate_series(0, to_day - from_day) as g (i)) as d
      left join closed_days c on c.day = d.day
  )
  select date_trunc(bucket, p.day::timestamp)::date,
         case when metric_kind = 'sum' then coalesce(sum(p.value), 0)
              else coalesce((array_agg(p.value order by p.day desc) filter (where p.value is not null))[1], 0)
         end
    from per_day p
   group by 1
   order by 1;
end
$$;
