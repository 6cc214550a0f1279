-- =======================================================================================
-- The hourly rollup: the closed hours of the days not closed yet, so that a read of today
-- costs only its open hour
-- =======================================================================================
-- Every day the nightly job has not closed (today, and yesterday until 02:00 UTC) was
-- computed live from the raw events by every read, a cost that grew through the day. Now
-- every hour, once it is over, is rolled up by private.close_hour (run at five past every
-- hour by analytics.run_hourly_rollup, under pg_cron or Beacon's own scheduler), and kept
-- for the last 7 days and today, so that hour buckets of up to 7 days can read it too:
--
--   analytics.closed_hours          the hours rolled up (the read takes the others live)
--   analytics.hourly_events         events per closed hour and event type
--   analytics.hourly_user_activity  distinct signed-in users per closed hour
--   analytics.hourly_day_users      per day not closed yet: the distinct users of its closed
--                                   hours (distinct users do not add up over hours)
--   analytics.hourly_day_totals     per day not closed yet: how many they are
--   analytics.hourly_runs           one row per run, with its snapshot's xmin (late events)
--
-- A read of a day not closed yet takes its closed hours from here and its other hours
-- (the open one, and any the job has not reached) live: private.open_day_metrics for
-- events and active users, private.user_days (redefined below) for everything built on
-- user ids. The counts are exact: events add up over hours, and a day's active users are
-- the users of its closed hours plus those of its open hours not among them.
--
-- Late events into a closed hour are caught as the nightly job catches late days: each run
-- records the oldest transaction still running when it started, and the next run closes
-- again every closed hour that received events from that transaction on. Until then such an
-- event is missing from the reads, as a late event into a closed day is until the next
-- night. A day's nightly close supersedes its hours: the dashboard's reads take closed days
-- from the daily rollup and ignore their hours, and the next run deletes the day's set of
-- users (the hours stay for hour buckets until they are 8 days old). private.close_day is
-- unchanged: the nightly close computes its day from the raw events, never from these hours.

-- ---------------------------------------------------------------------------------------
-- Tables
-- ---------------------------------------------------------------------------------------
create table analytics.closed_hours (
  hour timestamptz primary key,
  closed_at timestamptz not null default now()
);
comment on table analytics.closed_hours is
  'The UTC hours (of the last 7 days and today) whose rows in the hourly rollup are complete. Reads take these from the rollup and compute the other hours live. Written by private.close_hour.';
comment on column analytics.closed_hours.hour is 'The start of the UTC hour.';
comment on column analytics.closed_hours.closed_at is 'When the hour was last rolled up.';

create table analytics.hourly_events (
  hour timestamptz not null,
  event_type text not null,
  events bigint not null,
  primary key (hour, event_type)
);
comment on table analytics.hourly_events is
  'Events per closed UTC hour (see analytics.closed_hours) and event type. Written by private.close_hour; kept for the last 7 days and today.';
comment on column analytics.hourly_events.hour is 'The start of the UTC hour.';
comment on column analytics.hourly_events.event_type is 'The event type.';
comment on column analytics.hourly_events.events is 'Events of that type that happened in that hour.';

create table analytics.hourly_user_activity (
  hour timestamptz not null,
  user_id uuid not null,
  events integer not null,
  primary key (hour, user_id)
);
comment on table analytics.hourly_user_activity is
  'Distinct signed-in users per closed UTC hour, with their event count. Written by private.close_hour; kept for the last 7 days and today.';
comment on column analytics.hourly_user_activity.hour is 'The start of the UTC hour.';
comment on column analytics.hourly_user_activity.user_id is 'A user with at least one event in that hour.';
comment on column analytics.hourly_user_activity.events is 'Their events in that hour.';

create table analytics.hourly_day_users (
  day date not null,
  user_id uuid not null,
  primary key (day, user_id)
);
comment on table analytics.hourly_day_users is
  'Per UTC day not closed yet: the distinct signed-in users of its closed hours. Written by private.close_hour; deleted once the nightly job closes the day.';
comment on column analytics.hourly_day_users.day is 'The UTC day.';
comment on column analytics.hourly_day_users.user_id is 'A user with an event in one of the day''s closed hours.';

create table analytics.hourly_day_totals (
  day date primary key,
  active_users bigint not null
);
comment on table analytics.hourly_day_totals is
  'Per UTC day not closed yet: how many distinct signed-in users its closed hours have (the rows of analytics.hourly_day_users for that day). Written by private.close_hour.';
comment on column analytics.hourly_day_totals.day is 'The UTC day.';
comment on column analytics.hourly_day_totals.active_users is 'Distinct users over the day''s closed hours.';

create table analytics.hourly_runs (
  id bigint generated always as identity primary key,
  started_at timestamptz not null,
  finished_at timestamptz not null,
  through_hour timestamptz not null,
  hours_closed integer not null,
  snapshot_xmin xid8 not null
);
comment on table analytics.hourly_runs is
  'One row per run of analytics.run_hourly_rollup(): when, up to which hour (exclusive), how many hours it closed, and the oldest transaction still running when it started (closed hours with events from that one on are closed again by the next run).';

-- ---------------------------------------------------------------------------------------
-- Access: superusers and analysts read; only the rollup functions write
-- ---------------------------------------------------------------------------------------
revoke all on table analytics.closed_hours from public, anon, authenticated, service_role, analyst;
grant select on table analytics.closed_hours to authenticated, service_role, analyst;
alter table analytics.closed_hours enable row level security;
create policy "Superusers can read closed hours"
  on analytics.closed_hours for select to authenticated
  using ((select private.is_superuser()));
create policy "Analysts can read closed hours"
  on analytics.closed_hours for select to analyst
  using (true);

revoke all on table analytics.hourly_events from public, anon, authenticated, service_role, analyst;
grant select on table analytics.hourly_events to authenticated, service_role, analyst;
alter table analytics.hourly_events enable row level security;
create policy "Superusers can read hourly events"
  on analytics.hourly_events for select to authenticated
  using ((select private.is_superuser()));
create policy "Analysts can read hourly events"
  on analytics.hourly_events for select to analyst
  using (true);

revoke all on table analytics.hourly_user_activity from public, anon, authenticated, service_role, analyst;
grant select on table analytics.hourly_user_activity to authenticated, service_role, analyst;
alter table analytics.hourly_user_activity enable row level security;
create policy "Superusers can read hourly user activity"
  on analytics.hourly_user_activity for select to authenticated
  using ((select private.is_superuser()));
create policy "Analysts can read hourly user activity"
  on analytics.hourly_user_activity for select to analyst
  using (true);

revoke all on table analytics.hourly_day_users from public, anon, authenticated, service_role, analyst;
grant select on table analytics.hourly_day_users to authenticated, service_role, analyst;
alter table analytics.hourly_day_users enable row level security;
create policy "Superusers can read hourly day users"
  on analytics.hourly_day_users for select to authenticated
  using ((select private.is_superuser()));
create policy "Analysts can read hourly day users"
  on analytics.hourly_day_users for select to analyst
  using (true);

revoke all on table analytics.hourly_day_totals from public, anon, authenticated, service_role, analyst;
grant select on table analytics.hourly_day_totals to authenticated, service_role, analyst;
alter table analytics.hourly_day_totals enable row level security;
create policy "Superusers can read hourly day totals"
  on analytics.hourly_day_totals for select to authenticated
  using ((select private.is_superuser()));
create policy "Analysts can read hourly day totals"
  on analytics.hourly_day_totals for select to analyst
  using (true);

revoke all on table analytics.hourly_runs from public, anon, authenticated, service_role, analyst;
grant select on table analytics.hourly_runs to authenticated, service_role, analyst;
alter table analytics.hourly_runs enable row level security;
create policy "Superusers can read hourly runs"
  on analytics.hourly_runs for select to authenticated
  using ((select private.is_superuser()));
create policy "Analysts can read hourly runs"
  on analytics.hourly_runs for select to analyst
  using (true);

-- ---------------------------------------------------------------------------------------
-- Writing: one hour
-- ---------------------------------------------------------------------------------------

create function private.close_hour(hour timestamptz)
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
    insert into analytics.hourly_day_totals (day, active_users) values (of_day, added)
    on conflict (day) do update set active_users = excluded.active_users;
  else
    insert into analytics.hourly_day_users (day, user_id)
    select of_day, hu.user_id from analytics.hourly_user_activity hu where hu.hour = lo
    on conflict (day, user_id) do nothing;
    get diagnostics added = row_count;
    insert into analytics.hourly_day_totals (day, active_users) values (of_day, added)
    on conflict (day) do update set active_users = analytics.hourly_day_totals.active_users + excluded.active_users;
  end if;
end
$$;
comment on function private.close_hour(timestamptz) is
  'Rolls up one ended UTC hour (its start): events per type, distinct users, and, while the nightly job has not closed its day, the day''s distinct users over its closed hours; closing it again replaces its rows. Called by analytics.run_hourly_rollup; takes the advisory lock (hashtext(''beacon.close_hour''), the day).';
revoke all on function private.close_hour(timestamptz) from public, anon, authenticated, service_role, analyst;

-- ---------------------------------------------------------------------------------------
-- The hourly entry point
-- ---------------------------------------------------------------------------------------
create function analytics.run_hourly_rollup()
returns integer
language plpgsql
security definer
set search_path = ''
set jit = off
as $$
declare
  started timestamptz := clock_timestamp();
  current_hour timestamptz := date_trunc('hour', now(), 'UTC');
  -- Hours are rolled up and kept from the start of the day a week ago (UTC): enough for
  -- hour buckets of up to 7 days.
  first_hour timestamptz := ((now() at time zone 'UTC')::date - 7)::timestamp at time zone 'UTC';
  previous_xmin xid8;
  current_xmin xid8 := pg_snapshot_xmin(pg_current_snapshot());
  h timestamptz;
  n integer := 0;
begin
  -- One run at a time.
  perform pg_advisory_xact_lock(hashtext('beacon.run_hourly_rollup'));
  select r.snapshot_xmin into previous_xmin from analytics.hourly_runs r order by r.id desc limit 1;

  -- Days the nightly job closed since are read from the daily rollup: their sets of users
  -- go. Hours older than the week kept go.
  delete from analytics.hourly_day_users du
   where du.day < (first_hour at time zone 'UTC')::date
      or exists (select 1 from analytics.aggregated_days a where a.day = du.day);
  delete from analytics.hourly_day_totals dt
   where dt.day < (first_hour at time zone 'UTC')::date
      or exists (select 1 from analytics.aggregated_days a where a.day = dt.day);
  delete from analytics.closed_hours c where c.hour < first_hour;
  delete from analytics.hourly_events he where he.hour < first_hour;
  delete from analytics.hourly_user_activity hu where hu.hour < first_hour;
  delete from analytics.hourly_runs r
   where r.started_at < now() - interval '14 days'
     and r.id < (select max(l.id) from analytics.hourly_runs l);

  for h in
    select hours.hour
      from (
        -- Every ended hour of the week kept not rolled up yet.
        select first_hour + g.i * interval '1 hour' as hour
          from generate_series(0, (extract(epoch from current_hour - first_hour) / 3600)::integer - 1) as g (i)
         where not exists (select 1 from analytics.closed_hours c where c.hour = first_hour + g.i * interval '1 hour')
        union
        -- Closed hours that received events since the previous run started (including
        -- transactions that were still running then): late events.
        select date_trunc('hour', e."timestamp", 'UTC')
          from public.events e
         where previous_xmin is not null and e.txid >= previous_xmin
           and exists (select 1 from analytics.closed_hours c where c.hour = date_trunc('hour', e."timestamp", 'UTC'))
        union
        -- The first run: whatever was closed before it, again.
        select c.hour from analytics.closed_hours c where previous_xmin is null
      ) as hours
     where hours.hour < current_hour and hours.hour >= first_hour
     order by hours.hour
  loop
    perform private.close_hour(h);
    n := n + 1;
  end loop;
  -- The person bitmaps of the days not closed yet, through the same hour.
  perform analytics.extend_person_bits(current_hour);

  insert into analytics.hourly_runs (started_at, finished_at, through_hour, hours_closed, snapshot_xmin)
  values (started, clock_timestamp(), current_hour, n, current_xmin);
  return n;
end
$$;
comment on function analytics.run_hourly_rollup() is
  'Hourly entry point: rolls up every ended UTC hour of the last 7 days and today not rolled up yet, closes again every closed hour that received events since the previous run started (late events), deletes the sets of users of the days the nightly job has closed and the hours older than that week, and run records older than 14 days; then extends the person bitmaps of the days not closed yet through the same hour (analytics.extend_person_bits). Returns the number of hours rolled up.';
revoke all on function analytics.run_hourly_rollup() from public, anon, authenticated, service_role, analyst;
grant execute on function analytics.run_hourly_rollup() to service_role;

-- ---------------------------------------------------------------------------------------
-- Reading a day not closed yet: closed hours from the rollup, the others live
-- ---------------------------------------------------------------------------------------

-- private.user_days: as in 20261127000400_private_helpers.sql (closed days from
-- analytics.user_activity), and for the other days the users of their closed hours from
-- analytics.hourly_day_users plus those of their other hours, from the events, not among
-- them. Still one row per user and day. SQL without SET options, so it inlines.
create or replace function private.user_days(first_day date, last_day date)
returns table (day date, user_id uuid)
language sql
stable
as $$
  select ua.day, ua.user_id
    from analytics.user_activity ua
   where ua.day between first_day and last_day
  union all
  select du.day, du.user_id
    from analytics.hourly_day_users du
   where du.day between first_day and last_day
     and not exists (select 1 from analytics.aggregated_days a where a.day = du.day)
  union all
  select o.day, o.user_id
    from (
      select distinct h.day, e.user_id
        from (
          -- The hours not rolled up of the days not closed, bounds computed here so that
          -- under RLS the range below is a plain comparison the index can serve.
          select d.day,
                 d.lo + g.i * interval '1 hour' as lo,
                 d.lo + (g.i + 1) * interval '1 hour' as hi
            from (select first_day + k.i as day,
                         (first_day + k.i)::timestamp at time zone 'UTC' as lo
                    from generate_series(0, last_day - first_day) as k (i)) as d
            cross join generate_series(0, 23) as g (i)
           where not exists (select 1 from analytics.aggregated_days a where a.day = d.day)
             -- A closed hour counts when the day's set of users has it (it has a total).
             and not (exists (select 1 from analytics.closed_hours c where c.hour = d.lo + g.i * interval '1 hour')
                      and exists (select 1 from analytics.hourly_day_totals t where t.day = d.day))
          offset 0 -- keeps the bounds computed here, not pulled up into the range below
        ) as h
        cross join lateral (
          -- distinct: keeps this a scan per hour (a plain subquery would be pulled up, and
          -- the planner may then scan every event against the hours)
          select distinct ev.user_id
            from public.events ev
           where ev."timestamp" >= h.lo
             and ev."timestamp" < h.hi
             and ev.user_id is not null
        ) as e
    ) as o
   where not exists (select 1 from analytics.hourly_day_users x where x.day = o.day and x.user_id = o.user_id)
$$;
comment on function private.user_days(date, date) is
  'One row per signed-in user and UTC day with at least one event, between first_day and last_day: closed days from analytics.user_activity, the others from their closed hours (analytics.hourly_day_users) and their other hours live.';

-- private.open_day_metrics: one metric of a day not closed yet, as private.compute_day
-- computes it from the raw events, but events and active users from the closed hours plus
-- the other hours live.
create function private.open_day_metrics(target_day date, only_metric text)
returns table (metric text, dimension text, value numeric)
language plpgsql
stable
set search_path = ''
set jit = off
as $$
#variable_conflict use_column
declare
  lo timestamptz := target_day::timestamp at time zone 'UTC';
begin
  if target_day is null or only_metric is null then
    raise exception 'private.open_day_metrics: target_day and only_metric must not be null' using errcode = '22004';
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
    return query
    with hours as (
      select lo + g.i * interval '1 hour' as hour_lo,
             lo + (g.i + 1) * interval '1 hour' as hour_hi
        from generate_series(0, 23) as g (i)
       -- A closed hour counts when the day's set of users has it (it has a total).
       where not (exists (select 1 from analytics.closed_hours c where c.hour = lo + g.i * interval '1 hour')
                  and exists (select 1 from analytics.hourly_day_totals t where t.day = target_day))
      offset 0
    ),
    open_users as (
      select distinct e.user_id
        from hours h
        cross join lateral (
          select distinct ev.user_id from public.events ev  -- distinct: a scan per hour
           where ev."timestamp" >= h.hour_lo and ev."timestamp" < h.hour_hi and ev.user_id is not null
        ) as e
    )
    select 'active_users'::text, ''::text,
           (coalesce((select dt.active_users from analytics.hourly_day_totals dt where dt.day = target_day), 0)
            + (select count(*) from open_users o
                -- One index probe per open-hour user (a lateral with a limit stays a nested
                -- loop; an anti-join would hash the day's whole set of users).
                left join lateral (
                  select true as seen from analytics.hourly_day_users du
                   where du.day = target_day and du.user_id = o.user_id
                   limit 1
                ) as s on true
               where s.seen is null))::numeric;
    return;
  end if;

  return query select c.metric, c.dimension, c.value from private.compute_day(target_day, only_metric) c;
end
$$;
comment on function private.open_day_metrics(date, text) is
  'One metric (only_metric) of a UTC day the nightly job has not closed, as the caller sees it: events (in all and per event_type) and active_users from the day''s closed hours in the hourly rollup plus its other hours from the events; any other metric as private.compute_day computes it.';
revoke all on function private.open_day_metrics(date, text) from public, anon, authenticated, service_role, analyst;
-- The read functions run as the caller and call it.
grant execute on function private.open_day_metrics(date, text) to authenticated, service_role, analyst;

-- analytics.timeseries: as in 20261127000400_private_helpers.sql, the days not closed from
-- private.open_day_metrics instead of private.compute_day.
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
             else (select count(*)::numeric
                     from (select ud.user_id
                             from private.user_days(b.start, least((b.start + ('1 ' || timeseries.bucket)::interval)::date - 1, today)) ud
                            group by ud.user_id) as distinct_users)
           end
      from buckets b
     order by b.start;
    return;
  end if;

  return query
  with per_day as (
    select d.day,
           case
             when d.day > today then null
             when exists (select 1 from analytics.aggregated_days a where a.day = d.day) then
               coalesce((select dm.value from analytics.daily_metrics dm
                          where dm.day = d.day and dm.metric = timeseries.metric
                            and dm.dimension = timeseries.dimension), 0)
             else
               coalesce((select c.value from private.open_day_metrics(d.day, timeseries.metric) c
                          where c.dimension = timeseries.dimension), 0)
           end as value
      from (select from_day + g.i as day from generate_series(0, to_day - from_day) as g (i)) as d
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
comment on function analytics.timeseries(text, date, date, text, text) is
  'One row per bucket (day, week starting Monday, or month; UTC) between from_day and to_day, zeros where nothing happened. Sums cover the days of the bucket inside the range; active_users by week or month counts the distinct users of the whole calendar week or month (up to today). Closed days come from the rollup; the others from their closed hours in the hourly rollup and their other hours live.';

-- analytics.breakdown: as in 20261127000400_private_helpers.sql, the days not closed from
-- private.open_day_metrics instead of private.compute_day.
create or replace function analytics.breakdown(from_day date, to_day date, top integer default 10)
returns table (event_type text, events numeric, share numeric)
language plpgsql
stable
set search_path = ''
set jit = off
as $$
#variable_conflict use_column
declare
  today date := (now() at time zone 'UTC')::date;
begin
  if from_day is null or to_day is null or top is null then
    raise exception 'analytics.breakdown: from_day, to_day and top must not be null' using errcode = '22004';
  end if;
  if from_day > to_day then
    raise exception 'analytics.breakdown: from_day (%) is after to_day (%)', from_day, to_day
      using errcode = '22023';
  end if;
  if top < 1 or top > 1000 then
    raise exception 'analytics.breakdown: top must be between 1 and 1000, not %', top using errcode = '22023';
  end if;

  return query
  with days as (
    select from_day + g.i as day,
           exists (select 1 from analytics.aggregated_days a where a.day = from_day + g.i) as closed
      from generate_series(0, to_day - from_day) as g (i)
  ),
  per_type as (
    select dm.dimension as event_type, dm.value
      from analytics.daily_metrics dm
      join days d on d.day = dm.day and d.closed
     where dm.metric = 'events' and dm.dimension <> ''
    union all
    select c.dimension, c.value
      from (select d.day from days d where not d.closed and d.day <= today) as o
      cross join lateral private.open_day_metrics(o.day, 'events') c
     where c.dimension <> ''
  ),
  totals as (
    select t.event_type, sum(t.value) as events from per_type t group by t.event_type
  )
  select t.event_type, t.events, round(t.events / nullif(sum(t.events) over (), 0), 4)
    from totals t
   order by t.events desc, t.event_type
   limit top;
end
$$;
comment on function analytics.breakdown(date, date, integer) is
  'Events per event_type between from_day and to_day (UTC, inclusive), the top ones first, with each one''s share of all events in the range. Closed days come from the rollup; the others from their closed hours in the hourly rollup and their other hours live.';

-- ---------------------------------------------------------------------------------------
-- The hourly job, under pg_cron where it exists (as the nightly job in
-- 20261126001000_nightly_job.sql): scheduled by name, so running this again replaces it.
-- ---------------------------------------------------------------------------------------
do $cron$
begin
  if not exists (select 1 from pg_extension where extname = 'pg_cron') then
    begin
      create extension if not exists pg_cron with schema pg_catalog;
    exception when others then
      raise notice 'pg_cron is not available here (%): hourly_analytics_rollup is not scheduled. Call select analytics.run_hourly_rollup() a few minutes past every hour (Beacon''s server does this itself when it runs without pg_cron).', sqlerrm;
      return;
    end;
  end if;

  perform cron.schedule(
    'hourly_analytics_rollup',
    '5 * * * *',
    'select analytics.run_hourly_rollup()'
  );
end
$cron$;
