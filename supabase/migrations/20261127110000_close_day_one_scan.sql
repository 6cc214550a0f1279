-- =======================================================================================
-- Closing a day: one scan of its events feeds every rollup
-- =======================================================================================
-- private.close_day read the day's events five times (users, persons, tracked properties,
-- events by type, signups), looked every anonymous event's link and every person's number
-- up one by one, and scanned the whole tracked-property rollup three times per day. At a
-- day of 1 M events that was 15 s, and 183 s for a backfill of 10 M events.
--
-- Now the day's events are read once into beacon_day_groups, one row per event type, user,
-- anonymous id and tracked values with its number of events; user activity, the person
-- bitmaps, the tracked properties and the event metrics are sums over those groups. The
-- results are those of the earlier functions, row for row.

-- ---------------------------------------------------------------------------------------
-- The day's events, grouped once
-- ---------------------------------------------------------------------------------------
create function private.group_day_events(lo timestamptz, hi timestamptz, pair_types text[], pair_props text[])
returns void
language plpgsql
security definer
set search_path = ''
set jit = off
as $$
declare
  vals text := 'null::text[]';
begin
  create temporary table if not exists beacon_day_groups (
    event_type text, user_id uuid, anonymous_id text, vals text[], events bigint
  ) on commit drop;
  truncate beacon_day_groups;
  -- Slot i holds payload ->> pair_props[i] for events of type pair_types[i] (names only as
  -- literals, through %L).
  if cardinality(pair_types) > 0 then
    select 'array[' || string_agg(format('case when e.event_type = %L then e.payload ->> %L end', t, p), ', '
                                  order by i) || ']'
      into vals
      from unnest(pair_types, pair_props) with ordinality as x (t, p, i);
  end if;
  execute format(
    'insert into beacon_day_groups (event_type, user_id, anonymous_id, vals, events)
     select e.event_type, e.user_id, e.anonymous_id, %s, count(*)
       from public.events e
      where e."timestamp" >= $1 and e."timestamp" < $2
      group by 1, 2, 3, 4', vals)
    using lo, hi;
  analyze beacon_day_groups;
end
$$;
comment on function private.group_day_events(timestamptz, timestamptz, text[], text[]) is
  'Fills the temporary table beacon_day_groups with the events in [lo, hi) grouped by event type, user, anonymous id and, in slot i of vals, payload ->> pair_props[i] for events of type pair_types[i] (the tracked properties): one read of the events for private.close_day.';
revoke all on function private.group_day_events(timestamptz, timestamptz, text[], text[])
  from public, anon, authenticated, service_role, analyst;

-- ---------------------------------------------------------------------------------------
-- Persons: links looked up once per anonymous id, numbers by joins
-- ---------------------------------------------------------------------------------------
-- private.collect_day_persons: as in 20261127003200_person_bits.sql, the events grouped
-- before their anonymous ids' links are looked up.
create or replace function private.collect_day_persons(lo timestamptz, hi timestamptz, late_from timestamptz, late_xmin xid8)
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
          union
          -- Events that arrived since late_xmin for instants before lo (from late_from on).
          select ev.event_type, ev.user_id, ev.anonymous_id
            from public.events ev
           where late_xmin is not null and ev.txid >= late_xmin
             and ev."timestamp" >= late_from and ev."timestamp" < lo) as e
    left join analytics.person_links l on e.user_id is null and l.anonymous_id = e.anonymous_id;
  analyze beacon_day_persons;
end
$$;

-- private.store_person_bits: as in 20261127003200_person_bits.sql, with the numbers found
-- by joins the planner sizes from the analyzed temporary table (a few look-ups for an hour,
-- one pass for a day).
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
  insert into beacon_day_ids (person_id, id)
  select distinct p.person_id, i.id
    from beacon_day_persons p
    left join analytics.person_ids i on i.person_id = p.person_id;
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

-- private.close_person_bits: as before, for a day alone (private.close_day now fills the
-- persons from its own groups).
create or replace function private.close_person_bits(day date)
returns void
language plpgsql
security definer
set search_path = ''
set jit = off
set work_mem = '256MB'
as $$
begin
  perform private.collect_day_persons(close_person_bits.day::timestamp at time zone 'UTC',
                                      (close_person_bits.day + 1)::timestamp at time zone 'UTC', null, null);
  perform private.store_person_bits(close_person_bits.day, true);
  delete from analytics.person_bits_through t where t.day = close_person_bits.day;
end
$$;

-- ---------------------------------------------------------------------------------------
-- private.close_day
-- ---------------------------------------------------------------------------------------
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

  -- Links first, so that the day closed now and the days before agree on every person.
  if exists (select 1 from analytics.pending_person_links) then
    perform private.apply_person_links();
  end if;
  create temporary table if not exists beacon_day_persons (event_type text, person_id text collate "C")
    on commit drop;
  create temporary table if not exists beacon_day_ids (person_id text collate "C", id integer)
    on commit drop;
  truncate beacon_day_persons;
  insert into beacon_day_persons
  select distinct x.event_type, x.person_id
    from (select g.event_type, coalesce(g.user_id::text, l.user_id::text, g.anonymous_id) collate "C" as person_id
            from beacon_day_groups g
            left join analytics.person_links l on g.user_id is null and l.anonymous_id = g.anonymous_id) as x;
  analyze beacon_day_persons;
  perform private.store_person_bits(close_day.day, true);
  delete from analytics.person_bits_through t where t.day = close_day.day;

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
  select close_day.day, m.metric, m.dimension, m.value
    from (select 'events'::text as metric, ''::text as dimension, coalesce(sum(g.events), 0)::numeric as value
            from beacon_day_groups g
          union all
          select 'events', g.event_type, sum(g.events)::numeric from beacon_day_groups g group by g.event_type
          union all
          select 'signups', '', coalesce(sum(g.events) filter (where g.event_type = 'user_signup'), 0)::numeric
            from beacon_day_groups g
          union all
          select 'active_users', '', count(distinct g.user_id)::numeric from beacon_day_groups g
          union all
          select f.metric, f.dimension, f.value from private.day_paying_subscriptions(close_day.day) f
          union all
          select f.metric, f.dimension, f.value from private.day_subscription_changes(close_day.day) f) as m;
  truncate beacon_day_groups;
end
$$;
comment on function private.close_day(date) is
  'Recomputes one closed UTC day''s activity (users, person bitmaps after moving queued links), tracked properties and metrics, except the 7- and 30-day windows (see private.refresh_windows), from one read of the day''s events (private.group_day_events). Called by analytics.aggregate_day and analytics.run_daily_aggregation; takes the advisory lock (hashtext(''beacon.close_day''), the day) so one day is closed once at a time.';
revoke all on function private.close_day(date) from public, anon, authenticated, service_role;
