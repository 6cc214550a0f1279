-- =======================================================================================
-- Closing a day faster: persons numbered once, windows from bitmaps of the day's users
-- =======================================================================================
-- Issue 12's scale run closed one day of 1.12 M events in 3.6 s (target < 3 s). Measured
-- at 10 M events on a day of 1 M in the middle of the data (29 closed days after it):
-- - private.refresh_windows took 3.1-3.8 s of it: the 7- and 30-day active users of the 30
--   days after the day, recomputed from 59 days of analytics.user_activity (a window
--   function over every user's days), and the calendar weeks and months from 2 months of it;
-- - the person bitmaps 1.4 s: the groups' persons made distinct per event type (a hash of
--   228 k text pairs), the persons' numbers joined to all 228 k rows and made distinct again.
--
-- Now:
-- - private.user_day_bits keeps each closed day's signed-in users as bitmaps of their person
--   numbers (analytics.person_ids; 32768 per page, as analytics.person_day_bits), written by
--   private.close_day. A window's active users are the set bits of the OR of its days'
--   bitmaps, a calendar week's or month's too. private.refresh_windows reads them when every
--   day of the windows it recomputes that has users is closed (the usual case), and falls
--   back to analytics.user_activity and the live days otherwise (a day in the windows not
--   closed yet), so its results stay exact. Bitmaps of days not closed are never read.
-- - private.close_day fills beacon_day_persons without distinct (a pair repeated sets the
--   same bit: private.page_bits ORs its offsets); private.store_person_bits makes the persons
--   distinct first and looks their numbers up for them alone (76 k rows, not 228 k).
-- - The day's active users are the rows the user_activity insert wrote (one per signed-in
--   user), not a count(distinct) over the groups again; the events total and the signups are
--   sums of the per-type counts (one read of the groups, not three).
-- Same results row for row; same signatures, arguments and comments (private.refresh_windows
-- gets its first comment). Users closed before this migration get their bitmaps below (and a
-- person number if they had none).

-- ---------------------------------------------------------------------------------------
-- The day's users as bitmaps
-- ---------------------------------------------------------------------------------------
create table private.user_day_bits (
  day date not null,
  page integer not null check (page >= 0),
  bits bit varying not null,
  primary key (day, page)
);
comment on table private.user_day_bits is
  'Beacon: the signed-in users of each closed UTC day (analytics.user_activity), as pages of 32768 bits over their person numbers (analytics.person_ids, person_id = the user id as text). Written by private.close_day with the day''s user_activity rows (change those only by closing the day again: analytics.aggregate_day); read by private.refresh_windows for the 7- and 30-day, weekly and monthly active users.';
revoke all on table private.user_day_bits from public, anon, authenticated, service_role, analyst;
alter table private.user_day_bits enable row level security;

-- Users of days closed before (days closed before person numbers existed may have none).
insert into analytics.person_ids (person_id, id)
select n.person_id, nextval('private.person_id_seq')
  from (select distinct ua.user_id::text collate "C" as person_id
          from analytics.user_activity ua
         where not exists (select 1 from analytics.person_ids i where i.person_id = ua.user_id::text collate "C")
         order by 1) as n
on conflict (person_id) do nothing;
insert into private.user_day_bits (day, page, bits)
select ua.day, i.id / 32768, private.page_bits(array_agg(i.id % 32768))
  from analytics.user_activity ua
  join analytics.person_ids i on i.person_id = ua.user_id::text collate "C"
 group by ua.day, i.id / 32768;

create function private.closed_users_between(first_day date, last_day date)
returns bigint
language sql
stable
set search_path = ''
as $$
  select coalesce(sum(bit_count(x.bits)), 0)::bigint
    from (select bit_or(u.bits) as bits
            from private.user_day_bits u
           where u.day between first_day and last_day
             and exists (select 1 from analytics.aggregated_days a where a.day = u.day)
           group by u.page) as x
$$;
comment on function private.closed_users_between(date, date) is
  'Distinct signed-in users of the closed days from first_day to last_day (private.user_day_bits).';
revoke all on function private.closed_users_between(date, date) from public, anon, authenticated, service_role, analyst;

-- ---------------------------------------------------------------------------------------
-- private.refresh_windows
-- ---------------------------------------------------------------------------------------
create or replace function private.refresh_windows(first_day date, last_day date)
returns void
language plpgsql
security definer
set search_path = ''
set jit = off
as $$
declare
  from_bits boolean;
begin
  delete from analytics.daily_metrics dm
   where dm.day between first_day and last_day
     and dm.metric in ('weekly_active_users', 'monthly_active_users');
  -- The bitmaps hold the closed days; a day not closed that has users (in its hourly
  -- rollup or its events) is read as before.
  with open_days as materialized (
    -- The days of the windows not closed (none, usually): looked at one by one below.
    select g.d::date as day
      from generate_series(first_day - 29, last_day, interval '1 day') as g (d)
     where not exists (select 1 from analytics.aggregated_days a where a.day = g.d::date)
  )
  select not exists (
           select 1 from open_days o
            where exists (select 1 from analytics.hourly_day_users du where du.day = o.day)
               or exists (select 1 from public.events e
                           where e."timestamp" >= o.day::timestamp at time zone 'UTC'
                             and e."timestamp" < (o.day + 1)::timestamp at time zone 'UTC'
                             and e.user_id is not null))
    into from_bits;
  if from_bits then
    insert into analytics.daily_metrics (day, metric, dimension, value)
    select w.day, m.metric, '', m.value
      from (select a.day,
                   private.closed_users_between(a.day - 6, a.day) as weekly,
                   private.closed_users_between(a.day - 29, a.day) as monthly
              from analytics.aggregated_days a
             where a.day between first_day and last_day) as w
      cross join lateral (values ('weekly_active_users'::text, w.weekly::numeric),
                                 ('monthly_active_users'::text, w.monthly::numeric)) as m (metric, value);
  else
    insert into analytics.daily_metrics (day, metric, dimension, value)
    select w.day, m.metric, '', m.value
      from private.window_active_users(first_day, last_day) w
      join analytics.aggregated_days a on a.day = w.day
      cross join lateral (values ('weekly_active_users'::text, w.weekly::numeric),
                                 ('monthly_active_users'::text, w.monthly::numeric)) as m (metric, value);
  end if;

  -- Distinct users of every calendar week and month that holds one of these days (their
  -- closed days).
  delete from analytics.bucket_active_users b
   where (b.bucket = 'week' and b.start between date_trunc('week', first_day)::date and last_day)
      or (b.bucket = 'month' and b.start between date_trunc('month', first_day)::date and last_day);
  insert into analytics.bucket_active_users (bucket, start, users)
  select k.bucket, k.start, sum(bit_count(k.bits))
    from (
      select 'week'::text as bucket, date_trunc('week', u.day)::date as start, u.page, bit_or(u.bits) as bits
        from private.user_day_bits u
       where u.day between date_trunc('week', first_day)::date and (date_trunc('week', last_day) + interval '6 days')::date
         and exists (select 1 from analytics.aggregated_days a where a.day = u.day)
       group by 2, 3
      union all
      select 'month', date_trunc('month', u.day)::date, u.page, bit_or(u.bits)
        from private.user_day_bits u
       where u.day between date_trunc('month', first_day)::date and (date_trunc('month', last_day) + interval '1 month - 1 day')::date
         and exists (select 1 from analytics.aggregated_days a where a.day = u.day)
       group by 2, 3
    ) as k
   group by k.bucket, k.start
  having sum(bit_count(k.bits)) > 0;
end
$$;
comment on function private.refresh_windows(date, date) is
  'Recomputes the 7- and 30-day active users (analytics.daily_metrics) of the closed days from first_day to last_day, and the distinct users of every calendar week and month holding one of them (analytics.bucket_active_users), from the bitmaps of the closed days'' users (private.user_day_bits); from analytics.user_activity and the live days when a day in the windows that has users is not closed.';

-- private.store_person_bits: as in 20261127110000_close_day_one_scan.sql, the numbers looked up
-- for the distinct persons.
create or replace function private.store_person_bits(day date, replacing boolean)
returns void
language plpgsql
security definer
set search_path = ''
set jit = off
as $$
#variable_conflict use_column
begin
  truncate beacon_day_ids;
  -- The day's persons first (a person is in several rows: one per event type, and more when
  -- close_day's groups differ in tracked values), then their numbers: the join is sized by
  -- the persons, not by the rows.
  insert into beacon_day_ids (person_id, id)
  select d.person_id, i.id
    from (select distinct p.person_id from beacon_day_persons p) as d
    left join analytics.person_ids i on i.person_id = d.person_id;
  -- New persons numbered in a stable order, without burning numbers on known ones.
  with numbered as (
    insert into analytics.person_ids (person_id, id)
    select n.person_id, nextval('private.person_id_seq')
      from (select d.person_id from beacon_day_ids d where d.id is null order by 1) as n
    on conflict (person_id) do nothing
    returning person_id, id
  )
  update beacon_day_ids d set id = n.id from numbered n where n.person_id = d.person_id;
  -- A person numbered by a concurrent run (on conflict above): their number now.
  update beacon_day_ids d set id = i.id
    from analytics.person_ids i
   where d.id is null and i.person_id = d.person_id;

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

-- private.close_day: as in 20261127110000_close_day_one_scan.sql, with the changes above.
create or replace function private.close_day(day date)
returns void
language plpgsql
security definer
set search_path = ''
set jit = off
set work_mem = '256MB'
as $$
#variable_conflict use_column
declare
  lo timestamptz := close_day.day::timestamp at time zone 'UTC';
  hi timestamptz := (close_day.day + 1)::timestamp at time zone 'UTC';
  today date := (now() at time zone 'UTC')::date;
  pair_types text[];
  pair_props text[];
  active_users bigint;
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

  select array_agg(t.event_type order by t.event_type, t.property), array_agg(t.property order by t.event_type, t.property)
    into pair_types, pair_props
    from analytics.tracked_properties t;
  perform private.group_day_events(lo, hi, pair_types, pair_props);

  delete from analytics.aggregated_days a where a.day = close_day.day;
  delete from analytics.user_activity ua where ua.day = close_day.day;
  insert into analytics.user_activity (day, user_id, events)
  select close_day.day, g.user_id, sum(g.events)
    from beacon_day_groups g
   where g.user_id is not null
   group by g.user_id
   order by g.user_id;
  -- One row per signed-in user: the day's active users.
  get diagnostics active_users = row_count;

  -- Links first, so that the day closed now and the days before agree on every person.
  if exists (select 1 from analytics.pending_person_links) then
    perform private.apply_person_links();
  end if;
  create temporary table if not exists beacon_day_persons (event_type text, person_id text collate "C")
    on commit drop;
  create temporary table if not exists beacon_day_ids (person_id text collate "C", id integer)
    on commit drop;
  truncate beacon_day_persons;
  -- No distinct: a repeated (event type, person) sets the same bit twice.
  insert into beacon_day_persons
  select g.event_type, coalesce(g.user_id::text, l.user_id::text, g.anonymous_id) collate "C"
    from beacon_day_groups g
    left join analytics.person_links l on g.user_id is null and l.anonymous_id = g.anonymous_id;
  analyze beacon_day_persons;
  perform private.store_person_bits(close_day.day, true);
  delete from analytics.person_bits_through t where t.day = close_day.day;
  -- The day's signed-in users as bitmaps of their numbers (beacon_day_ids holds every person
  -- of the day), for private.refresh_windows.
  delete from private.user_day_bits b where b.day = close_day.day;
  insert into private.user_day_bits (day, page, bits)
  select close_day.day, i.id / 32768, private.page_bits(array_agg(i.id % 32768))
    from analytics.user_activity ua
    join beacon_day_ids i on i.person_id = ua.user_id::text collate "C"
   where ua.day = close_day.day
   group by i.id / 32768;

  -- Tracked properties (every row of property_*_days is of a tracked pair: removing one
  -- deletes its rows), each pair's rows of the day through its index.
  delete from analytics.property_actor_days p
   using analytics.tracked_properties t
   where p.event_type = t.event_type and p.property = t.property and p.day = close_day.day;
  delete from analytics.property_days p
   using analytics.tracked_properties t
   where p.event_type = t.event_type and p.property = t.property and p.day = close_day.day;
  if cardinality(pair_types) > 0 then
    insert into analytics.property_actor_days (event_type, property, day, value, anonymous, actor, events)
    select g.event_type, tp.property, close_day.day, g.vals[tp.i::integer], g.user_id is null,
           coalesce(g.user_id::text, g.anonymous_id), sum(g.events)
      from beacon_day_groups g
      join unnest(pair_types, pair_props) with ordinality as tp (event_type, property, i)
        on tp.event_type = g.event_type
     group by 1, 2, 3, 4, 5, 6;
    insert into analytics.property_days (event_type, property, day, value, events)
    select g.event_type, tp.property, close_day.day, g.vals[tp.i::integer], sum(g.events)
      from beacon_day_groups g
      join unnest(pair_types, pair_props) with ordinality as tp (event_type, property, i)
        on tp.event_type = g.event_type
     group by 1, 2, 3, 4;
  end if;

  insert into analytics.aggregated_days (day, aggregated_at) values (close_day.day, now());

  -- The metrics of private.compute_day(day, null, false): events, signups and active users
  -- from the groups, subscriptions from their own functions.
  delete from analytics.daily_metrics dm
   where dm.day = close_day.day and dm.metric not in ('weekly_active_users', 'monthly_active_users');
  insert into analytics.daily_metrics (day, metric, dimension, value)
  with by_type as materialized (
    -- The groups read once: the total and the signups are sums of the event types.
    select g.event_type, sum(g.events)::numeric as n from beacon_day_groups g group by g.event_type
  )
  select close_day.day, m.metric, m.dimension, m.value
    from (select 'events'::text as metric, ''::text as dimension, coalesce(sum(t.n), 0) as value
            from by_type t
          union all
          select 'events', t.event_type, t.n from by_type t
          union all
          select 'signups', '', coalesce((select t.n from by_type t where t.event_type = 'user_signup'), 0)
          union all
          select 'active_users', '', active_users::numeric
          union all
          select f.metric, f.dimension, f.value from private.day_paying_subscriptions(close_day.day) f
          union all
          select f.metric, f.dimension, f.value from private.day_subscription_changes(close_day.day) f) as m;
  truncate beacon_day_groups;
end
$$;
