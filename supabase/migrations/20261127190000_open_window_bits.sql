-- =======================================================================================
-- Windows holding a day not closed (7- and 30-day active users, the current week's and
-- month's active users) from bitmaps
-- =======================================================================================
-- Issue 11 asks any 90-day dashboard query to answer in < 5 ms at 10 M events late in a
-- day. The four measured (events by day and week, active users by day, the breakdown) did
-- since 20261127180000; the others did not. On a kept 10 M database at 20:00 UTC simulated
-- (yesterday not closed yet, today empty): the 90-day weekly_active_users and
-- monthly_active_users series took about 1.95 s (0.95 s per day not closed: its window's
-- users read from analytics.user_activity, up to 30 days of rows, and the open hours, then
-- counted by private.window_active_users), active users by week 270 ms (the current week's
-- users likewise). analytics.summary() reads the same windows for yesterday: 2.2 s between
-- midnight and the nightly job.
--
-- Closed days already keep their signed-in users as bitmaps of person numbers
-- (private.user_day_bits, 20261127140000); the snapshot of a day's hours not rolled up keeps
-- its users likewise (private.live_part_bits, 20261127180000). Now a day not closed keeps its
-- closed hours' users (analytics.hourly_day_users) likewise too: private.open_user_bits, kept
-- by triggers on analytics.hourly_day_users in the statement that changes it (new users
-- numbered in analytics.person_ids first). The distinct users of any range of days is then
-- the bit count of the OR of its closed days', its days not closed' closed hours' and their
-- snapshots' pages, plus the users of the events newer than each snapshot whose bit is not
-- set (private.open_window_users). It answers only when every day of the range not closed
-- has a snapshot that holds (as the live part's readers check it), and otherwise says so
-- (null): the callers then count as before. Exact either way (same sets of users).
--
-- Access: the bitmaps are read as the caller, through RLS: superusers, analysts and the
-- service role read them (policies as private.revenue_days'), other signed-in users see none
-- and get the answer they got before (nothing through RLS).

-- ---------------------------------------------------------------------------------------
-- The closed hours' users of each day not closed, as bitmaps
-- ---------------------------------------------------------------------------------------
create table private.open_user_bits (
  day date not null,
  page integer not null check (page >= 0),
  bits bit varying not null check (length(bits) = 32768),
  primary key (day, page)
);
comment on table private.open_user_bits is
  'Beacon: the users of analytics.hourly_day_users (per day not closed, the users of its closed hours) as pages of 32768 bits over their person numbers (analytics.person_ids, person_id = the user id as text). Kept by triggers on analytics.hourly_day_users.';
revoke all on table private.open_user_bits from public, anon, authenticated, service_role, analyst;
grant select on table private.open_user_bits to authenticated, service_role, analyst;
alter table private.open_user_bits enable row level security;
create policy open_user_bits_read on private.open_user_bits for select
  to authenticated, service_role, analyst
  using (current_user <> 'authenticated' or (select private.is_superuser()) or (select private.is_analyst()));

-- Closed days' bitmaps, read the same way.
grant select on table private.user_day_bits to authenticated, service_role, analyst;
create policy user_day_bits_read on private.user_day_bits for select
  to authenticated, service_role, analyst
  using (current_user <> 'authenticated' or (select private.is_superuser()) or (select private.is_analyst()));

create function private.keep_open_user_bits()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  if tg_op = 'INSERT' then
    insert into analytics.person_ids (person_id, id)
    select n.person_id, nextval('private.person_id_seq')
      from (select distinct r.user_id::text collate "C" as person_id
              from new_rows r
             where not exists (select 1 from analytics.person_ids i where i.person_id = r.user_id::text collate "C")
             order by 1) as n
    on conflict (person_id) do nothing;
    insert into private.open_user_bits (day, page, bits)
    select r.day, i.id / 32768, private.page_bits(array_agg(i.id % 32768))
      from new_rows r
      join analytics.person_ids i on i.person_id = r.user_id::text collate "C"
     group by r.day, i.id / 32768
    on conflict (day, page) do update set bits = private.open_user_bits.bits | excluded.bits;
  elsif tg_op = 'DELETE' then
    -- The days touched, again from what is left of them (nothing, usually: private.close_hour
    -- and the hourly job delete a day's users whole).
    delete from private.open_user_bits b where b.day in (select o.day from old_rows o);
    insert into private.open_user_bits (day, page, bits)
    select du.day, i.id / 32768, private.page_bits(array_agg(i.id % 32768))
      from analytics.hourly_day_users du
      join analytics.person_ids i on i.person_id = du.user_id::text collate "C"
     where du.day in (select o.day from old_rows o)
     group by du.day, i.id / 32768;
  else -- TRUNCATE
    delete from private.open_user_bits;
  end if;
  return null;
end
$$;
comment on function private.keep_open_user_bits() is
  'Triggers on analytics.hourly_day_users: keep private.open_user_bits equal to it (users added: numbered if new, their bits set; users removed: their days built again; truncated: emptied).';
revoke all on function private.keep_open_user_bits() from public, anon, authenticated, service_role, analyst;

create trigger beacon_open_user_bits_added
  after insert on analytics.hourly_day_users
  referencing new table as new_rows
  for each statement execute function private.keep_open_user_bits();
create trigger beacon_open_user_bits_removed
  after delete on analytics.hourly_day_users
  referencing old table as old_rows
  for each statement execute function private.keep_open_user_bits();
create trigger beacon_open_user_bits_truncated
  after truncate on analytics.hourly_day_users
  for each statement execute function private.keep_open_user_bits();

-- The days not closed already rolled up get theirs.
insert into analytics.person_ids (person_id, id)
select n.person_id, nextval('private.person_id_seq')
  from (select distinct du.user_id::text collate "C" as person_id
          from analytics.hourly_day_users du
         where not exists (select 1 from analytics.person_ids i where i.person_id = du.user_id::text collate "C")
         order by 1) as n
on conflict (person_id) do nothing;
insert into private.open_user_bits (day, page, bits)
select du.day, i.id / 32768, private.page_bits(array_agg(i.id % 32768))
  from analytics.hourly_day_users du
  join analytics.person_ids i on i.person_id = du.user_id::text collate "C"
 group by du.day, i.id / 32768;

-- ---------------------------------------------------------------------------------------
-- private.open_window_users
-- ---------------------------------------------------------------------------------------
create function private.open_window_users(first_day date, last_day date)
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
   where t.last_day between open_window_users.first_day and open_window_users.last_day
     and t.last_day - open_window_users.first_day + 1 <= 31
     and not exists (select 1 from analytics.aggregated_days a
                      where a.day > t.last_day and a.day <= open_window_users.last_day)
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
comment on function private.open_window_users(date, date) is
  'Distinct signed-in users with an event from first_day to last_day (UTC, up to today) from bitmaps: closed days'' (the minute job''s trailing ORs private.trailing_user_bits while they hold, else private.user_day_bits), the closed hours'' of the days not closed (private.open_user_bits) and their snapshots'' (private.live_part_bits), plus the users of the events newer than each snapshot. Null when a day not closed has no snapshot that holds: count otherwise. As the caller (through RLS).';
revoke all on function private.open_window_users(date, date) from public, anon, authenticated, service_role, analyst;
grant execute on function private.open_window_users(date, date) to authenticated, service_role, analyst;

-- ---------------------------------------------------------------------------------------
-- private.open_day_metrics: a day not closed from the minute job's snapshot (migration
-- 20261127180000: events per type and active users from the snapshot plus the newer
-- events), its windows from the bitmaps, its subscription metrics from what the job keeps
-- while current; as 20261127160000 otherwise
-- ---------------------------------------------------------------------------------------
create or replace function private.open_day_metrics(target_day date, only_metric text)
returns table (metric text, dimension text, value numeric)
language plpgsql
stable
set search_path = ''
set jit = off
set max_parallel_workers_per_gather = 0
as $$
#variable_conflict use_column
declare
  lo timestamptz := target_day::timestamp at time zone 'UTC';
  hi timestamptz := (target_day + 1)::timestamp at time zone 'UTC';
  closed_total bigint;
  users_filter bigint[];
  first_open timestamptz;
  closed_after timestamptz[];
  snap_from timestamptz;
  snap_xid xid8;
  snap_new bigint;
begin
  if target_day is null or only_metric is null then
    raise exception 'private.open_day_metrics: target_day and only_metric must not be null' using errcode = '22004';
  end if;

  if only_metric in ('active_subscriptions', 'mrr_cents', 'new_subscriptions', 'churned_subscriptions') then
    -- Kept by the minute job while no subscription changed since (migration 20261127180000).
    if exists (select 1 from private.open_day_subscriptions s
                where s.day = target_day
                  and s.change_seen = (select q.last_value from private.revenue_changes q)) then
      return query
      select m.metric, m.dimension, m.value
        from private.open_day_subscription_metrics m
       where m.day = target_day and m.metric = only_metric;
      return;
    end if;
  end if;

  if only_metric in ('weekly_active_users', 'monthly_active_users') then
    snap_new := private.open_window_users(
      target_day - case when only_metric = 'weekly_active_users' then 6 else 29 end, target_day);
    if snap_new is not null then
      return query select only_metric, ''::text, snap_new::numeric;
      return;
    end if;
  end if;

  if only_metric in ('events', 'active_users') then
    -- The day's snapshot (analytics.refresh_live_parts), if it was taken with the day's
    -- closed hours as they are: every hour before its first hour closed, none after.
    select l.from_hour, l.upto_xid, l.new_users into snap_from, snap_xid, snap_new
      from analytics.live_parts l
     where l.day = target_day
       -- One the job has not replaced for minutes (the job stopped) is not read.
       and l.taken_at > now() - interval '5 minutes'
       and (select count(*) from analytics.closed_hours c where c.hour >= lo and c.hour < hi)
           = (extract(epoch from l.from_hour - lo) / 3600)::bigint;
  end if;

  if only_metric = 'events' and snap_from is not null then
    -- Closed hours from the hourly rollup, the others from the snapshot and the events of
    -- the transactions it left out.
    return query
    with by_type as (
      select he.event_type, he.events::numeric as n
        from analytics.hourly_events he
       where he.hour >= lo and he.hour < snap_from
      union all
      select le.event_type, le.events::numeric
        from analytics.live_part_events le
       where le.day = target_day
      union all
      select e.event_type, count(*)::numeric
        from public.events e
       where e.txid >= snap_xid and e."timestamp" >= snap_from and e."timestamp" < hi
       group by e.event_type
    ),
    totals as (
      select t.event_type, sum(t.n) as n from by_type t group by t.event_type
    )
    select 'events'::text, ''::text, coalesce(sum(t.n), 0) from totals t
    union all
    select 'events'::text, t.event_type, t.n from totals t;
    return;
  end if;

  if only_metric = 'active_users' and snap_from is not null then
    -- The closed hours' users, the snapshot's users not among them, and the users of the
    -- events it left out who are in neither.
    select dt.active_users into closed_total from analytics.hourly_day_totals dt where dt.day = target_day;
  end if;
  -- Closed hours without their set of users (gone since the snapshot: a day the nightly job
  -- closed, reopened): the snapshot's users cannot be told apart from theirs, read as before.
  if only_metric = 'active_users' and snap_from is not null and (closed_total is not null or snap_from = lo) then
    return query
    with newer_users as materialized (
      select distinct e.user_id
        from public.events e
       where e.txid >= snap_xid and e."timestamp" >= snap_from and e."timestamp" < hi
         and e.user_id is not null
    )
    select 'active_users'::text, ''::text,
           (coalesce(closed_total, 0) + snap_new
            + (select count(*) from newer_users n
                where not exists (select 1 from analytics.live_part_users lu
                                   where lu.day = target_day and lu.user_id = n.user_id)
                  and not exists (select 1 from analytics.hourly_day_users du
                                   where du.day = target_day and du.user_id = n.user_id)))::numeric;
    return;
  end if;

  if only_metric = 'events' then
    return query
    with hours as (
      select lo + g.i * interval '1 hour' as hour_lo,
             lo + (g.i + 1) * interval '1 hour' as hour_hi,
             exists (select 1 from analytics.closed_hours c where c.hour = lo + g.i * interval '1 hour') as closed
        from generate_series(0, 23) as g (i)
      offset 0 -- bounds computed here: a plain index range below, under RLS too
    ),
    by_type as (
      select he.event_type, he.events::numeric as n
        from hours h
        join analytics.hourly_events he on he.hour = h.hour_lo
       where h.closed
      union all
      select l.event_type, l.n
        from hours h
        cross join lateral (
          select e.event_type, count(*)::numeric as n
            from public.events e
           where e."timestamp" >= h.hour_lo and e."timestamp" < h.hour_hi
           group by e.event_type
        ) as l
       where not h.closed
    ),
    totals as (
      select t.event_type, sum(t.n) as n from by_type t group by t.event_type
    )
    select 'events'::text, ''::text, coalesce(sum(t.n), 0) from totals t
    union all
    select 'events'::text, t.event_type, t.n from totals t;
    return;
  end if;

  if only_metric = 'active_users' then
    -- The filter copied out of its row (array_cat returns it whole, detoasted), so that
    -- each look-up below reads it in memory rather than detoasting it again; one not built
    -- (null, or not of its length) stays null: every user is looked up.
    select dt.active_users,
           case when array_length(dt.users_filter, 1) = 16384 then dt.users_filter || '{}'::bigint[] end
      into closed_total, users_filter
      from analytics.hourly_day_totals dt where dt.day = target_day;
    -- A closed hour counts when the day's set of users has it (it has a total).
    -- The first hour not closed (null: all 24 closed) and the closed hours after it.
    if closed_total is null then
      first_open := lo;
      closed_after := '{}';
    else
      select f.first_open,
             coalesce((select array_agg(c.hour) from analytics.closed_hours c
                        where c.hour > f.first_open and c.hour < hi), '{}')
        into first_open, closed_after
        from (select min(lo + g.i * interval '1 hour') as first_open
                from generate_series(0, 23) as g (i)
               where not exists (select 1 from analytics.closed_hours c where c.hour = lo + g.i * interval '1 hour')) as f;
    end if;

    return query
    with open_users as materialized (
      select distinct e.user_id
        from public.events e
       where e."timestamp" >= first_open and e."timestamp" < hi and e.user_id is not null
         and (cardinality(closed_after) = 0 or date_trunc('hour', e."timestamp", 'UTC') <> all (closed_after))
    )
    select 'active_users'::text, ''::text,
           (coalesce(closed_total, 0)
            + (select count(*) from open_users)
            -- Less those already among the closed hours' users ((day, user_id) is unique):
            -- only the users whose bit is set in the day's filter can be (a clear bit: not
            -- among them), looked up together in one index scan rather than one lateral probe
            -- each.
            - (select count(*) from analytics.hourly_day_users du
                where du.day = target_day
                  and du.user_id = any (array(
                        select o.user_id from open_users o
                         where coalesce((users_filter[((pg_catalog.uuid_hash(o.user_id) & 1048575) >> 6) + 1]
                                         >> ((pg_catalog.uuid_hash(o.user_id) & 1048575) & 63)) & 1 <> 0, true)))))::numeric;
    return;
  end if;

  return query select c.metric, c.dimension, c.value from private.compute_day(target_day, only_metric) c;
end
$$;

-- ---------------------------------------------------------------------------------------
-- analytics.timeseries: as in 20261127100000, a calendar bucket's distinct users from the
-- bitmaps when they can answer
-- ---------------------------------------------------------------------------------------
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
      select distinct date_trunc(timeseries.bucket, (from_day + g.i)::timestamp)::date as start
        from generate_series(0, to_day - from_day) as g (i)
    )
    select b.start,
           case
             when b.start > today then 0::numeric
             when (select count(*) from analytics.aggregated_days a
                    where a.day >= b.start and a.day < (b.start + ('1 ' || timeseries.bucket)::interval)::date)
                  = (b.start + ('1 ' || timeseries.bucket)::interval)::date - b.start
               then coalesce((select c.users::numeric from analytics.bucket_active_users c
                               where c.bucket = timeseries.bucket and c.start = b.start), 0)
             -- From the bitmaps where every day of it not closed has a snapshot, else from
             -- the users of its days.
             else coalesce(
                    private.open_window_users(b.start, least((b.start + ('1 ' || timeseries.bucket)::interval)::date - 1, today))::numeric,
                    (select count(*)::numeric
                       from (select ud.user_id
                               from private.user_days(b.start, least((b.start + ('1 ' || timeseries.bucket)::interval)::date - 1, today)) ud
                              group by ud.user_id) as distinct_users))
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

