-- =======================================================================================
-- Today's active users: a filter of the closed hours' users, so the open hour's new users
-- need no look-up
-- =======================================================================================
-- A day not closed counts its active users as the users of its closed hours (the total in
-- analytics.hourly_day_totals) plus the open hour's users not among them, each looked up in
-- analytics.hourly_day_users by one index probe. Late in a day at the 10 M rate that is
-- about 2,900 probes for the open hour, the larger part of a 90-day active users series.
--
-- Now the day's row in analytics.hourly_day_totals also keeps a filter of those users: 2^20
-- bits (16,384 words of 64 bits, 128 kB), the bit uuid_hash(user_id) & 1048575 set for
-- each. A user whose bit is clear is not among them and is counted without a probe; one
-- whose bit is set is looked up as before (the bit may belong to another user). The count
-- is exact whatever the filter holds, as long as it has the bits of every user of the set:
-- private.close_hour keeps it so in the same transaction as the set (built whole when it
-- rebuilds the set, the new users' bits added otherwise), and a row without a filter (null)
-- looks every user up. How much it saves depends on the users: for those new to the day in
-- the open hour no probe, for those already seen that day a probe as before; the filter's
-- false positives grow with the day's users (about 5 % at 50,000).
--
-- Event inserts do not touch these tables (the hourly job writes them): no lock on
-- public.events is needed.

alter table analytics.hourly_day_totals add column users_filter bigint[];
comment on column analytics.hourly_day_totals.users_filter is
  'A filter of the users in analytics.hourly_day_users for the day: 16,384 words of 64 bits, bit (h & 63) of element (h >> 6) + 1 set for every user whose h = uuid_hash(user_id) & 1048575. A clear bit: no such user among them; a set bit: maybe. Null: not built (every user is looked up). Written by private.close_hour.';

-- ---------------------------------------------------------------------------------------
-- Building filters
-- ---------------------------------------------------------------------------------------
create function private.users_filter_add(filter bigint[], user_ids uuid[])
returns bigint[]
language plpgsql
immutable
parallel safe
set search_path = ''
as $$
declare
  f bigint[] := filter;
  w record;
begin
  -- A filter not built stays so: it would miss the users added before.
  if f is null then
    return null;
  end if;
  -- One assignment per word touched (plpgsql changes an array variable in place).
  for w in
    select (pg_catalog.uuid_hash(u.id) & 1048575) >> 6 as i,
           pg_catalog.bit_or(1::int8 << ((pg_catalog.uuid_hash(u.id) & 1048575) & 63)) as word
      from unnest(user_ids) as u (id)
     where u.id is not null
     group by 1
  loop
    f[w.i + 1] := f[w.i + 1] | w.word;
  end loop;
  return f;
end
$$;
comment on function private.users_filter_add(bigint[], uuid[]) is
  'The filter of analytics.hourly_day_totals.users_filter (16,384 words; array_fill(0::bigint, array[16384]) for none) with the bits of the given users set too; null when the filter is null (not built).';
revoke all on function private.users_filter_add(bigint[], uuid[]) from public, anon, authenticated, service_role, analyst;

-- ---------------------------------------------------------------------------------------
-- private.close_hour: as in 20261127004200_hourly_rollup.sql, the filter kept with the set
-- ---------------------------------------------------------------------------------------
create or replace function private.close_hour(hour timestamptz)
returns void
language plpgsql
security definer
set search_path = ''
set jit = off
as $$
#variable_conflict use_column
declare
  lo timestamptz := close_hour.hour;
  hi timestamptz := close_hour.hour + interval '1 hour';
  of_day date := (close_hour.hour at time zone 'UTC')::date;
  was_closed boolean;
  added bigint;
  added_users uuid[];
begin
  if close_hour.hour is null then
    raise exception 'private.close_hour: hour must not be null' using errcode = '22004';
  end if;
  if close_hour.hour <> date_trunc('hour', close_hour.hour, 'UTC') then
    raise exception 'private.close_hour: hour (%) is not the start of a UTC hour', close_hour.hour
      using errcode = '22023', hint = 'Pass date_trunc(''hour'', t, ''UTC'').';
  end if;
  if hi > now() then
    raise exception 'private.close_hour: the hour starting % is not over yet', close_hour.hour
      using errcode = '22023', hint = 'Only hours that have ended can be rolled up; the open hour is computed live.';
  end if;

  -- One closing of a given day's hours at a time (they share the day's distinct users).
  perform pg_advisory_xact_lock(hashtext('beacon.close_hour'), of_day - date '2000-01-01');

  delete from analytics.closed_hours c where c.hour = lo returning true into was_closed;
  delete from analytics.hourly_events he where he.hour = lo;
  insert into analytics.hourly_events (hour, event_type, events)
  select lo, e.event_type, count(*)
    from public.events e
   where e."timestamp" >= lo and e."timestamp" < hi
   group by e.event_type;
  delete from analytics.hourly_user_activity hu where hu.hour = lo;
  insert into analytics.hourly_user_activity (hour, user_id, events)
  select lo, e.user_id, count(*)
    from public.events e
   where e."timestamp" >= lo and e."timestamp" < hi and e.user_id is not null
   group by e.user_id;
  insert into analytics.closed_hours (hour, closed_at) values (lo, now());

  -- A day the nightly job has closed is read from the daily rollup: no set of users.
  if exists (select 1 from analytics.aggregated_days a where a.day = of_day) then
    delete from analytics.hourly_day_users du where du.day = of_day;
    delete from analytics.hourly_day_totals dt where dt.day = of_day;
    return;
  end if;

  -- The day's distinct users over its closed hours: this hour's added to the set, or, when
  -- the hour is closed again (late events) or the day has no set yet, the set rebuilt from
  -- every closed hour of the day.
  if coalesce(was_closed, false)
     or not exists (select 1 from analytics.hourly_day_totals dt where dt.day = of_day) then
    delete from analytics.hourly_day_users du where du.day = of_day;
    insert into analytics.hourly_day_users (day, user_id)
    select distinct of_day, hu.user_id
      from analytics.hourly_user_activity hu
      join analytics.closed_hours c on c.hour = hu.hour
     where hu.hour >= of_day::timestamp at time zone 'UTC'
       and hu.hour < (of_day + 1)::timestamp at time zone 'UTC';
    get diagnostics added = row_count;
    insert into analytics.hourly_day_totals (day, active_users, users_filter)
    values (of_day, added,
            private.users_filter_add(array_fill(0::bigint, array[16384]),
                                     array(select du.user_id from analytics.hourly_day_users du where du.day = of_day)))
    on conflict (day) do update set active_users = excluded.active_users, users_filter = excluded.users_filter;
  else
    with new_users as (
      insert into analytics.hourly_day_users (day, user_id)
      select of_day, hu.user_id from analytics.hourly_user_activity hu where hu.hour = lo
      on conflict (day, user_id) do nothing
      returning user_id
    )
    select count(*), array_agg(n.user_id) into added, added_users from new_users n;
    -- The filter gains the new users' bits; one not built (null) stays so.
    insert into analytics.hourly_day_totals (day, active_users, users_filter) values (of_day, added, null)
    on conflict (day) do update
      set active_users = analytics.hourly_day_totals.active_users + excluded.active_users,
          users_filter = private.users_filter_add(analytics.hourly_day_totals.users_filter, added_users);
  end if;
end
$$;
comment on function private.close_hour(timestamptz) is
  'Rolls up one ended UTC hour (its start): events per type, distinct users, and, while the nightly job has not closed its day, the day''s distinct users over its closed hours with their filter (analytics.hourly_day_totals.users_filter); closing it again replaces its rows. Called by analytics.run_hourly_rollup; takes the advisory lock (hashtext(''beacon.close_hour''), the day).';

-- ---------------------------------------------------------------------------------------
-- The days not closed already rolled up get their filter
-- ---------------------------------------------------------------------------------------
update analytics.hourly_day_totals t
   set users_filter = private.users_filter_add(array_fill(0::bigint, array[16384]),
                                               array(select du.user_id from analytics.hourly_day_users du where du.day = t.day));

-- ---------------------------------------------------------------------------------------
-- private.open_day_metrics: as in 20261127100000_live_part_faster.sql, active users probe
-- only the open hour's users whose bit is set
-- ---------------------------------------------------------------------------------------
create or replace function private.open_day_metrics(target_day date, only_metric text)
returns table (metric text, dimension text, value numeric)
language plpgsql
stable
set search_path = ''
set jit = off
as $$
#variable_conflict use_column
declare
  lo timestamptz := target_day::timestamp at time zone 'UTC';
  hi timestamptz := (target_day + 1)::timestamp at time zone 'UTC';
  closed_total bigint;
  users_filter bigint[];
begin
  if target_day is null or only_metric is null then
    raise exception 'private.open_day_metrics: target_day and only_metric must not be null' using errcode = '22004';
  end if;

  if only_metric = 'events' then
    return query
    with closed as materialized (
      select c.hour from analytics.closed_hours c where c.hour >= lo and c.hour < hi
    ),
    runs as (
      -- The hours not closed, as runs of consecutive hours (gaps and islands): one index
      -- range scan each below, bounds computed here so that under RLS the range is a plain
      -- comparison the index can serve.
      select lo + min(h.i) * interval '1 hour' as run_lo,
             lo + (max(h.i) + 1) * interval '1 hour' as run_hi
        from (select g.i, g.i - row_number() over (order by g.i) as run
                from generate_series(0, 23) as g (i)
               where not exists (select 1 from closed c where c.hour = lo + g.i * interval '1 hour')) as h
       group by h.run
      offset 0
    ),
    by_type as (
      select he.event_type, he.events::numeric as n
        from analytics.hourly_events he
       where he.hour >= lo and he.hour < hi
         and exists (select 1 from closed c where c.hour = he.hour)
      union all
      select l.event_type, l.n
        from runs r
        cross join lateral (
          select e.event_type, count(*)::numeric as n
            from public.events e
           where e."timestamp" >= r.run_lo and e."timestamp" < r.run_hi
           group by e.event_type
        ) as l
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
    -- A closed hour counts when the day's set of users has it (it has a total).
    -- The filter copied out of its row (array_cat returns it whole, detoasted), so that
    -- each look-up below reads it in memory rather than detoasting it again; one not built
    -- (null, or not of its length) stays null: every user is looked up.
    select dt.active_users,
           case when array_length(dt.users_filter, 1) = 16384 then dt.users_filter || '{}'::bigint[] end
      into closed_total, users_filter
      from analytics.hourly_day_totals dt where dt.day = target_day;
    return query
    with closed as materialized (
      select c.hour from analytics.closed_hours c
       where closed_total is not null and c.hour >= lo and c.hour < hi
    ),
    runs as (
      select lo + min(h.i) * interval '1 hour' as run_lo,
             lo + (max(h.i) + 1) * interval '1 hour' as run_hi
        from (select g.i, g.i - row_number() over (order by g.i) as run
                from generate_series(0, 23) as g (i)
               where not exists (select 1 from closed c where c.hour = lo + g.i * interval '1 hour')) as h
       group by h.run
      offset 0
    ),
    open_users as (
      select distinct e.user_id
        from runs r
        cross join lateral (
          select distinct ev.user_id from public.events ev  -- distinct: a scan per run
           where ev."timestamp" >= r.run_lo and ev."timestamp" < r.run_hi and ev.user_id is not null
        ) as e
    )
    select 'active_users'::text, ''::text,
           (coalesce(closed_total, 0)
            + (select count(*) from open_users o
                -- One index probe per open-hour user whose bit is set in the day's filter
                -- (a clear bit: not among the users of the closed hours, no probe); a
                -- lateral with a limit stays a nested loop, where an anti-join would hash
                -- the day's whole set of users.
                left join lateral (
                  select true as seen from analytics.hourly_day_users du
                   where coalesce((users_filter[((pg_catalog.uuid_hash(o.user_id) & 1048575) >> 6) + 1]
                                   >> ((pg_catalog.uuid_hash(o.user_id) & 1048575) & 63)) & 1 <> 0, true)
                     and du.day = target_day and du.user_id = o.user_id
                   limit 1
                ) as s on true
               where s.seen is null))::numeric;
    return;
  end if;

  return query select c.metric, c.dimension, c.value from private.compute_day(target_day, only_metric) c;
end
$$;

