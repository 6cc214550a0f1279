-- =======================================================================================
-- Person bitmaps: who did what on which UTC day, one bit per person
-- =======================================================================================
-- Retention, lifecycle, stickiness and feature adoption count persons over days. At 10 M
-- events a rollup with one row per person and day (analytics.actor_days) is nearly as large
-- as the events, and reading it costs seconds. Here every person gets a small integer
-- (analytics.person_ids), and each closed UTC day and event type keeps the set of persons
-- who did it as bitmaps (analytics.person_day_bits): pages of 32768 bits, bit i of page p
-- being person p * 32768 + i, pages without a person not stored. Sets of persons are then
-- unions (|), intersections (&) and counts (bit_count) of a few kilobytes per day, whatever
-- the number of events.
--
-- Persons are analytics.person_events' person_id: the user (as text), else the anonymous
-- id, an anonymous id's events going to the user it was first linked to.
--
-- Links that arrive after a day was closed: the closed bitmaps still hold the anonymous
-- id's own bit. Each new link is queued (analytics.pending_person_links); readers move the
-- queued anonymous ids' bits to their users' as they read (exact at once), and the nightly
-- job moves them in the stored bitmaps and empties the queue.
--
-- Days not closed yet (today, or days the job has not reached) are read from the events, as
-- the rest of Beacon does; persons not in analytics.person_ids yet get numbers after the
-- last one for the length of the query.
--
-- This replaces the actor rollup of 20261127003100_person_activity.sql (analytics.actor_days,
-- analytics.actor_firsts and their helpers), which was new in the same unfinished issue and
-- is dropped here.

create table analytics.person_ids (
  person_id text collate "C" primary key,
  id integer not null unique check (id >= 0)
);
comment on table analytics.person_ids is
  'Beacon: a small integer for every person seen on a closed day (person_id as analytics.person_events names it), its bit in analytics.person_day_bits. Written by the nightly job.';
comment on column analytics.person_ids.person_id is 'The person: a user id as text, or an anonymous id never linked when first seen.';
comment on column analytics.person_ids.id is 'The person''s number: page id / 32768, bit id % 32768 of analytics.person_day_bits.';

create sequence private.person_id_seq as integer minvalue 0 start with 0;

create table analytics.person_day_bits (
  event_type text not null,
  day date not null,
  page integer not null check (page >= 0),
  bits bit varying not null check (length(bits) = 32768),
  primary key (event_type, day, page)
);
alter table analytics.person_day_bits alter column bits set storage main;
comment on table analytics.person_day_bits is
  'Beacon: per closed UTC day and event type ('''' for any event), the persons who did it: bit i of page p is the person numbered p * 32768 + i in analytics.person_ids (pages without anyone are not stored). Count with bit_count, combine with | and &. Written by the nightly job.';
comment on column analytics.person_day_bits.event_type is 'The event type, or '''' for events of any type.';
comment on column analytics.person_day_bits.day is 'The UTC day.';
comment on column analytics.person_day_bits.page is 'Which 32768 persons: ids page * 32768 to page * 32768 + 32767.';
comment on column analytics.person_day_bits.bits is '32768 bits, the leftmost (get_bit(bits, 0)) for id page * 32768.';

create table analytics.pending_person_links (
  anonymous_id text primary key,
  queued_at timestamptz not null default now()
);
comment on table analytics.pending_person_links is
  'Beacon: anonymous ids linked to a user since the nightly job last moved their bits in analytics.person_day_bits to the user''s. Readers apply them on the fly. Written by the link trigger; emptied by the nightly job.';

create table analytics.person_bits_through (
  day date primary key,
  through timestamptz not null,
  snapshot_xmin xid8 not null
);
comment on table analytics.person_bits_through is
  'Beacon: for a day not closed yet, how far its analytics.person_day_bits already go: the persons of every event before `through` (and of events from transactions before snapshot_xmin). Readers take the rest from the events. Written by analytics.extend_person_bits (every hour); the nightly close of the day removes the row.';

do $$
declare
  t text;
begin
  foreach t in array array['person_ids', 'person_day_bits', 'pending_person_links', 'person_bits_through'] loop
    execute format('revoke all on table analytics.%I from public, anon, authenticated, service_role, analyst', t);
    execute format('grant select on table analytics.%I to authenticated, service_role, analyst', t);
    execute format('alter table analytics.%I enable row level security', t);
    execute format('create policy %I on analytics.%I for select to authenticated using ((select private.is_superuser()))',
                   'Superusers can read ' || replace(t, '_', ' '), t);
    execute format('create policy %I on analytics.%I for select to analyst using (true)',
                   'Analysts can read ' || replace(t, '_', ' '), t);
  end loop;
end
$$;
revoke all on sequence private.person_id_seq from public, anon, authenticated, service_role, analyst;

-- ---------------------------------------------------------------------------------------
-- Making a page from the offsets of its persons
-- ---------------------------------------------------------------------------------------
create function private.page_bits(offsets integer[])
returns bit varying
language sql
immutable
parallel safe
as $$
  -- 512 words of 64 bits, the leftmost bit of word w being offset 64 * w.
  select string_agg(coalesce(w.word, 0)::bit(64)::text, '' order by g.i)::bit varying
    from generate_series(0, 511) as g (i)
    left join (select o / 64 as i, bit_or(1::int8 << (63 - o % 64)) as word
                 from unnest(offsets) as o
                where o between 0 and 32767
                group by o / 64) as w on w.i = g.i
$$;
comment on function private.page_bits(integer[]) is
  'A 32768-bit page with the given offsets (0 .. 32767) set.';

create function private.zero_page()
returns bit varying
language sql
immutable
parallel safe
as $$ select 0::bit(32768)::bit varying $$;
comment on function private.zero_page() is 'A 32768-bit page with no bit set.';

-- ---------------------------------------------------------------------------------------
-- The link trigger queues every new link
-- ---------------------------------------------------------------------------------------
create or replace function private.link_persons()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  with linked as (
    insert into analytics.person_links (anonymous_id, user_id, linked_at, link_event_id)
    select distinct on (n.anonymous_id) n.anonymous_id, n.user_id, n."timestamp", n.id
      from new_rows n
     where n.user_id is not null and n.anonymous_id is not null
     order by n.anonymous_id, n.seq
    on conflict (anonymous_id) do nothing
    returning anonymous_id
  )
  insert into analytics.pending_person_links (anonymous_id)
  select l.anonymous_id from linked l
  on conflict (anonymous_id) do nothing;
  return null;
end
$$;

-- ---------------------------------------------------------------------------------------
-- Writing: one closed day, and moving queued links (called by private.close_day)
-- ---------------------------------------------------------------------------------------
create function private.store_person_bits(day date, replacing boolean)
returns void
language plpgsql
security definer
set search_path = ''
set jit = off
as $$
#variable_conflict use_column
begin
  -- New persons numbered in a stable order, without burning numbers on known ones. A day's
  -- persons are few against every person numbered: look each one up (offset 0 keeps it a
  -- look-up, never a hash of the whole table).
  insert into analytics.person_ids (person_id, id)
  select n.person_id, nextval('private.person_id_seq')
    from (select distinct p.person_id from beacon_day_persons p
           where not exists (select 1 from analytics.person_ids i where i.person_id = p.person_id offset 0)
           order by 1) as n
  on conflict (person_id) do nothing;
  truncate beacon_day_ids;
  insert into beacon_day_ids (person_id, id)
  select n.person_id, i.id
    from (select distinct p.person_id from beacon_day_persons p) as n
    cross join lateral (select i.id from analytics.person_ids i where i.person_id = n.person_id offset 0) as i;

  if replacing then
    delete from analytics.person_day_bits b where b.day = store_person_bits.day;
  end if;
  insert into analytics.person_day_bits (event_type, day, page, bits)
  select x.event_type, store_person_bits.day, x.id / 32768, private.page_bits(array_agg(x.id % 32768))
    from (select p.event_type, i.id
            from beacon_day_persons p join beacon_day_ids i on i.person_id = p.person_id
          union all
          select '', i.id from beacon_day_ids i) as x
   group by x.event_type, x.id / 32768
  on conflict (event_type, day, page) do update
    set bits = (analytics.person_day_bits.bits | excluded.bits)::bit varying;
end
$$;
comment on function private.store_person_bits(date, boolean) is
  'Numbers the persons in the temporary table beacon_day_persons (event_type, person_id) and writes them into analytics.person_day_bits for day: replacing the day''s pages, or adding to them. Called by private.close_person_bits and private.extend_person_bits.';

create function private.collect_day_persons(lo timestamptz, hi timestamptz, late_from timestamptz, late_xmin xid8)
returns void
language plpgsql
security definer
set search_path = ''
set jit = off
as $$
begin
  create temporary table if not exists beacon_day_persons (event_type text, person_id text collate "C")
    on commit drop;
  create temporary table if not exists beacon_day_ids (person_id text collate "C", id integer)
    on commit drop;
  truncate beacon_day_persons;
  insert into beacon_day_persons
  select distinct e.event_type,
         coalesce(e.user_id::text, l.user_id::text, e.anonymous_id) collate "C"
    from (select ev.event_type, ev.user_id, ev.anonymous_id
            from public.events ev
           where ev."timestamp" >= lo and ev."timestamp" < hi
          union all
          -- Events that arrived since late_xmin for instants before lo (from late_from on).
          select ev.event_type, ev.user_id, ev.anonymous_id
            from public.events ev
           where late_xmin is not null and ev.txid >= late_xmin
             and ev."timestamp" >= late_from and ev."timestamp" < lo) as e
    left join lateral (select l.user_id from analytics.person_links l
                        where e.user_id is null and l.anonymous_id = e.anonymous_id offset 0) as l on true;
end
$$;
comment on function private.collect_day_persons(timestamptz, timestamptz, timestamptz, xid8) is
  'Fills the temporary table beacon_day_persons with the (event type, person) pairs of the events in [lo, hi), plus, when late_xmin is set, of the events from transactions since late_xmin in [late_from, lo).';

create function private.close_person_bits(day date)
returns void
language plpgsql
security definer
set search_path = ''
set jit = off
as $$
begin
  perform private.collect_day_persons(close_person_bits.day::timestamp at time zone 'UTC',
                                      (close_person_bits.day + 1)::timestamp at time zone 'UTC', null, null);
  perform private.store_person_bits(close_person_bits.day, true);
  delete from analytics.person_bits_through t where t.day = close_person_bits.day;
end
$$;
comment on function private.close_person_bits(date) is
  'Numbers the persons of one closed UTC day (analytics.person_ids) and rewrites its analytics.person_day_bits. Called by private.close_day.';

create function private.apply_person_links()
returns integer
language plpgsql
security definer
set search_path = ''
set jit = off
as $$
declare
  moved integer := 0;
begin
  -- The users linked to need a number of their own.
  insert into analytics.person_ids (person_id, id)
  select n.person_id, nextval('private.person_id_seq')
    from (select distinct l.user_id::text collate "C" as person_id
            from analytics.pending_person_links q
            join analytics.person_links l on l.anonymous_id = q.anonymous_id
            join analytics.person_ids a on a.person_id = q.anonymous_id
           where not exists (select 1 from analytics.person_ids i where i.person_id = l.user_id::text)
           order by 1) as n
  on conflict (person_id) do nothing;

  create temporary table beacon_moves on commit drop as
  with pend as (
    select a.id as aid, u.id as uid
      from analytics.pending_person_links q
      join analytics.person_links l on l.anonymous_id = q.anonymous_id
      join analytics.person_ids a on a.person_id = q.anonymous_id
      join analytics.person_ids u on u.person_id = l.user_id::text
  ),
  masks as (
    select p.aid / 32768 as page, private.page_bits(array_agg(p.aid % 32768)) as m
      from pend p group by 1
  ),
  touched as (
    select b.event_type, b.day, b.page, m.m
      from analytics.person_day_bits b
      join masks m on m.page = b.page
     where bit_count(b.bits & m.m) > 0
  )
  select t.event_type, t.day, t.page as apage, t.m, p.uid
    from touched t
    join analytics.person_day_bits b on (b.event_type, b.day, b.page) = (t.event_type, t.day, t.page)
    join pend p on p.aid / 32768 = t.page and get_bit(b.bits, p.aid % 32768) = 1;

  -- Set the users' bits (their page may not exist yet on that day), then clear the ids'.
  insert into analytics.person_day_bits (event_type, day, page, bits)
  select mv.event_type, mv.day, mv.uid / 32768, private.page_bits(array_agg(mv.uid % 32768))
    from beacon_moves mv
   group by mv.event_type, mv.day, mv.uid / 32768
  on conflict (event_type, day, page) do update
    set bits = analytics.person_day_bits.bits | excluded.bits;
  update analytics.person_day_bits b
     set bits = b.bits & ~mv.m
    from (select distinct event_type, day, apage, m from beacon_moves) as mv
   where (b.event_type, b.day, b.page) = (mv.event_type, mv.day, mv.apage);
  get diagnostics moved = row_count;
  delete from analytics.pending_person_links;
  drop table beacon_moves;
  return moved;
end
$$;
comment on function private.apply_person_links() is
  'Moves the bits of queued linked anonymous ids (analytics.pending_person_links) to their users'' in analytics.person_day_bits, then empties the queue. Returns the bitmap pages changed. Called by private.close_day.';

create function analytics.extend_person_bits(up_to timestamptz default null)
returns integer
language plpgsql
security definer
set search_path = ''
set jit = off
as $$
declare
  through timestamptz := coalesce(up_to, date_trunc('hour', now()));
  current_xmin xid8 := pg_snapshot_xmin(pg_current_snapshot());
  d date;
  lo timestamptz;
  hi timestamptz;
  prev_through timestamptz;
  prev_xmin xid8;
  n integer := 0;
begin
  if through > now() then
    raise exception 'analytics.extend_person_bits: up_to (%) is in the future', through using errcode = '22023';
  end if;
  perform pg_advisory_xact_lock(hashtext('beacon.extend_person_bits'));
  for d in
    select g.day
      from (values ((through at time zone 'UTC')::date - 1), ((through at time zone 'UTC')::date)) as g (day)
     order by 1
  loop
    -- The nightly close of the same day waits, or is waited for.
    perform pg_advisory_xact_lock(hashtext('beacon.close_day'), d - date '2000-01-01');
    continue when exists (select 1 from analytics.aggregated_days a where a.day = d);
    lo := d::timestamp at time zone 'UTC';
    hi := least(through, (d + 1)::timestamp at time zone 'UTC');
    select t.through, t.snapshot_xmin into prev_through, prev_xmin
      from analytics.person_bits_through t where t.day = d;
    -- The events since where the last run stopped, and the late ones before it.
    perform private.collect_day_persons(greatest(coalesce(prev_through, lo), lo),
                                        greatest(hi, coalesce(prev_through, lo)), lo, prev_xmin);
    perform private.store_person_bits(d, false);
    insert into analytics.person_bits_through (day, through, snapshot_xmin)
    values (d, greatest(hi, coalesce(prev_through, lo)), current_xmin)
    on conflict (day) do update set through = excluded.through, snapshot_xmin = excluded.snapshot_xmin;
    n := n + 1;
  end loop;
  return n;
end
$$;
comment on function analytics.extend_person_bits(timestamptz) is
  'Hourly: adds the persons of the days not closed yet (yesterday until the nightly job closes it, and today) to analytics.person_day_bits up to up_to (default the start of this hour), including late events that arrived since the last run, so that readers take only the rest from the events. Returns the days extended.';
revoke all on function analytics.extend_person_bits(timestamptz) from public, anon, authenticated, service_role, analyst;
grant execute on function analytics.extend_person_bits(timestamptz) to service_role;

revoke all on function private.close_person_bits(date) from public, anon, authenticated, service_role, analyst;
revoke all on function private.store_person_bits(date, boolean) from public, anon, authenticated, service_role, analyst;
revoke all on function private.collect_day_persons(timestamptz, timestamptz, timestamptz, xid8)
  from public, anon, authenticated, service_role, analyst;
revoke all on function private.apply_person_links() from public, anon, authenticated, service_role, analyst;
revoke all on function private.page_bits(integer[]) from public, anon, authenticated, service_role, analyst;
revoke all on function private.zero_page() from public, anon, authenticated, service_role, analyst;
grant execute on function private.page_bits(integer[]) to authenticated, service_role, analyst;
grant execute on function private.zero_page() to authenticated, service_role, analyst;

-- private.close_day: as in 20261127003100_person_activity.sql, with person bitmaps instead of
-- the actor rollup.
create or replace function private.close_day(day date)
returns void
language plpgsql
security definer
set search_path = ''
set jit = off
as $$
#variable_conflict use_column
declare
  lo timestamptz := close_day.day::timestamp at time zone 'UTC';
  hi timestamptz := (close_day.day + 1)::timestamp at time zone 'UTC';
  today date := (now() at time zone 'UTC')::date;
begin
  if close_day.day is null then
    raise exception 'private.close_day: day must not be null' using errcode = '22004';
  end if;
  if close_day.day >= today then
    raise exception 'private.close_day: % is not over yet (today is % UTC)', close_day.day, today
      using errcode = '22023', hint = 'Only days before today can be aggregated; today is computed live.';
  end if;

  -- One closing of a given day at a time.
  perform pg_advisory_xact_lock(hashtext('beacon.close_day'), close_day.day - date '2000-01-01');

  delete from analytics.aggregated_days a where a.day = close_day.day;
  delete from analytics.user_activity ua where ua.day = close_day.day;
  insert into analytics.user_activity (day, user_id, events)
  select close_day.day, e.user_id, count(*)
    from public.events e
   where e."timestamp" >= lo and e."timestamp" < hi and e.user_id is not null
   group by e.user_id;
  -- Links first, so that the day closed now and the days before agree on every person.
  perform private.apply_person_links();
  perform private.close_person_bits(close_day.day);
  insert into analytics.aggregated_days (day, aggregated_at) values (close_day.day, now());

  delete from analytics.daily_metrics dm
   where dm.day = close_day.day and dm.metric not in ('weekly_active_users', 'monthly_active_users');
  insert into analytics.daily_metrics (day, metric, dimension, value)
  select close_day.day, c.metric, c.dimension, c.value
    from private.compute_day(close_day.day, null, false) c;
end
$$;
comment on function private.close_day(date) is
  'Recomputes one closed UTC day''s activity (users, person bitmaps after moving queued links) and metrics, except the 7- and 30-day windows (see private.refresh_windows). Called by analytics.aggregate_day and analytics.run_daily_aggregation; takes the advisory lock (hashtext(''beacon.close_day''), the day) so one day is closed once at a time.';
revoke all on function private.close_day(date) from public, anon, authenticated, service_role;

-- The days closed before this migration.
select private.close_person_bits(a.day) from analytics.aggregated_days a order by a.day;

-- ---------------------------------------------------------------------------------------
-- Reading: the persons of each bucket of days, as bitmap pages
-- ---------------------------------------------------------------------------------------
create function private.person_bits(
  types text[],
  first_day date,
  last_day date,
  origin date,
  period text,
  with_before boolean
)
returns table (event_type text, b integer, page integer, bits bit varying)
language plpgsql
stable
set search_path = ''
set jit = off
set plan_cache_mode = force_custom_plan
as $$
#variable_conflict use_column
declare
  max_id integer;
  los timestamptz[];
  his timestamptz[];
  live_lo timestamptz;
  live_hi timestamptz;
begin
  select coalesce(max(i.id), -1) into max_id from analytics.person_ids i;
  -- Days not closed yet, from where the hourly extension of their bitmaps stopped, as
  -- instants so that under RLS the range is a plain index scan. Known before the query is
  -- planned, so the planner sees how few they are (a blind guess of hundreds of days of
  -- events makes it reserve memory for hundreds of millions of rows).
  select array_agg(d.lo order by d.day), array_agg(d.hi order by d.day)
    into los, his
    from (select s.f + g.i as day,
                 greatest((s.f + g.i)::timestamp at time zone 'UTC',
                          (select t.through from analytics.person_bits_through t where t.day = s.f + g.i)) as lo,
                 (s.f + g.i + 1)::timestamp at time zone 'UTC' as hi
            from (select case when with_before
                              then (select (min(e."timestamp") at time zone 'UTC')::date from public.events e)
                              else first_day end as f) as s
           -- No event is more than a day ahead of its arrival (events_timestamp_not_future).
           cross join generate_series(0, least(last_day, ((now() + interval '1 day') at time zone 'UTC')::date) - s.f)
                        as g (i)
           where not exists (select 1 from analytics.aggregated_days a where a.day = s.f + g.i)) as d;
  live_lo := (select min(x) from unnest(los) as x);
  live_hi := (select max(x) from unnest(his) as x);
  return query
  with live as materialized (
    -- One range scan between the first and the last instant to read (constants: the planner
    -- estimates it from the statistics), each event then kept if one of the days' ranges
    -- holds it.
    select distinct t.event_type, (e.ts at time zone 'UTC')::date as day, e.person_id
      from (select ev.event_type, ev."timestamp" as ts,
                   coalesce(ev.user_id::text, l.user_id::text, ev.anonymous_id) collate "C" as person_id
              from public.events ev
              left join lateral (select l.user_id from analytics.person_links l
                                  where ev.user_id is null and l.anonymous_id = ev.anonymous_id offset 0) as l on true
             where ev."timestamp" >= live_lo and ev."timestamp" < live_hi
               and exists (select 1 from unnest(los, his) as r (lo, hi)
                            where ev."timestamp" >= r.lo and ev."timestamp" < r.hi)) as e
     cross join lateral (values (e.event_type), ('')) as t (event_type)
     where types is null or t.event_type = any(types)
  ),
  pend as materialized (
    select q.anonymous_id collate "C" as anon, l.user_id::text collate "C" as target
      from analytics.pending_person_links q
      join analytics.person_links l on l.anonymous_id = q.anonymous_id
  ),
  live_ids as materialized (
    -- Today's persons are few against every person numbered, but a day's events are
    -- estimated blindly: look each one up (offset 0 keeps it a look-up, never a hash of all).
    select lv.event_type, lv.day, lv.person_id, i.id
      from live lv
      left join lateral (select i.id from analytics.person_ids i where i.person_id = lv.person_id offset 0) as i on true
  ),
  -- Persons not numbered yet: numbers after the last one, for this query only.
  unknown as materialized (
    select k.person_id, (max_id + row_number() over (order by k.person_id))::integer as id
      from (select lv.person_id from live_ids lv where lv.id is null
            union
            select p.target from pend p
             where not exists (select 1 from analytics.person_ids i where i.person_id = p.target)) as k
  ),
  pend_ids as materialized (
    select a.id as aid, coalesce(u.id, un.id) as uid
      from pend p
      join analytics.person_ids a on a.person_id = p.anon
      left join analytics.person_ids u on u.person_id = p.target
      left join unknown un on un.person_id = p.target
  ),
  raw as (
    select d.event_type,
           case when d.day < first_day then -1000000
                when period = 'all' then 0
                else private.period_index(d.day, origin, period) end as b,
           d.page, d.bits
      from analytics.person_day_bits d
     where (types is null or d.event_type = any(types))
       and d.day <= last_day and (with_before or d.day >= first_day)
    union all
    select x.event_type, x.b, x.page, private.page_bits(array_agg(x.o))
      from (select lv.event_type,
                   case when lv.day < first_day then -1000000
                        when period = 'all' then 0
                        else private.period_index(lv.day, origin, period) end as b,
                   coalesce(lv.id, un.id) / 32768 as page, coalesce(lv.id, un.id) % 32768 as o
              from live_ids lv
              left join unknown un on lv.id is null and un.person_id = lv.person_id) as x
     group by x.event_type, x.b, x.page
  ),
  combined as materialized (
    select r.event_type, r.b, r.page, bit_or(r.bits)::bit varying as bits
      from raw r
     group by r.event_type, r.b, r.page
  ),
  -- Linked anonymous ids still holding bits of their own on closed days: moved to the user.
  masks as materialized (
    select p.aid / 32768 as page, private.page_bits(array_agg(p.aid % 32768)) as m
      from pend_ids p group by 1
  ),
  hit as (
    select c.event_type, c.b, c.page, c.bits
      from combined c join masks m on m.page = c.page
     where bit_count(c.bits & m.m) > 0
    offset 0
  ),
  adds as (
    select h.event_type, h.b, p.uid / 32768 as page, private.page_bits(array_agg(p.uid % 32768)) as t
      from hit h
      join pend_ids p on p.aid / 32768 = h.page and get_bit(h.bits, p.aid % 32768) = 1
     group by h.event_type, h.b, p.uid / 32768
  )
  select coalesce(c.event_type, a.event_type), coalesce(c.b, a.b), coalesce(c.page, a.page),
         (case when c.m is null and a.t is null then c.bits
               else (coalesce(c.bits, private.zero_page()) & ~coalesce(c.m, private.zero_page()))
                    | coalesce(a.t, private.zero_page()) end)::bit varying
    from (select c.*, m.m from combined c left join masks m on m.page = c.page) as c
    full join adds a on a.event_type = c.event_type and a.b = c.b and a.page = c.page;
end
$$;
comment on function private.person_bits(text[], date, date, date, text, boolean) is
  'The persons who did each of `types` (event types, '''' for any event; null: every type and '''') per bucket of UTC days from first_day to last_day, as bitmap pages: b is private.period_index(day, origin, period) (period day, week or month; ''all'' puts every day in bucket 0); with_before adds every earlier day in bucket -1000000. Closed days from analytics.person_day_bits, the others from the events; queued links applied. Persons not numbered yet are numbered for the call only: combine sets from one call, never from two. Runs as the caller: RLS decides.';
revoke all on function private.person_bits(text[], date, date, date, text, boolean) from public, anon, authenticated, service_role, analyst;
grant execute on function private.person_bits(text[], date, date, date, text, boolean) to authenticated, service_role, analyst;
