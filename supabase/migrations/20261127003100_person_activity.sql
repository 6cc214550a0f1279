-- =======================================================================================
-- Person activity: who did what on which UTC day, by actor, rolled up nightly
-- =======================================================================================
-- Retention, lifecycle, stickiness and feature adoption count persons per day. The rollup
-- keeps ACTORS (a user id, or an anonymous id for events without a user), not persons: a
-- link that arrives later (analytics.person_links) changes whose person an anonymous id's
-- old days belong to, and resolving actors to persons when reading keeps every closed day
-- right without recomputing it. Closed days come from the rollup, the others (today, days
-- not aggregated yet) from the events, exactly as private.user_days does for users.
--
--   analytics.actor_days    one row per day, event type ('' = any event) and actor
--   analytics.actor_firsts  per event type ('' = any) and actor, the first closed day seen
--
-- private.close_day (called by the nightly job for every day it closes, late days included)
-- now writes both: the first day only ever moves earlier, so a late event on an old day
-- that the job redoes lowers it, and nothing else can change it (events are append-only).

create table analytics.actor_days (
  event_type text not null,
  day date not null,
  anonymous boolean not null,
  actor text not null,
  events integer not null,
  primary key (event_type, day, anonymous, actor)
);
comment on table analytics.actor_days is
  'Per closed UTC day, event type ('''' for any event) and actor (a user id as text, or the anonymous id of an event without a user): the number of events. Persons come from actors through analytics.person_links when read. Written by the nightly job.';
comment on column analytics.actor_days.event_type is 'The event type, or '''' for events of any type.';
comment on column analytics.actor_days.day is 'The UTC day.';
comment on column analytics.actor_days.anonymous is 'True when actor is an anonymous id (the events had no user id).';
comment on column analytics.actor_days.actor is 'The user id (as text) or the anonymous id.';
comment on column analytics.actor_days.events is 'Events of that actor, type and day.';

create table analytics.actor_firsts (
  event_type text not null,
  anonymous boolean not null,
  actor text not null,
  first_day date not null,
  primary key (event_type, anonymous, actor)
);
comment on table analytics.actor_firsts is
  'Per event type ('''' for any event) and actor: the first closed UTC day the actor did it. Written by the nightly job; the first ever day of a person is the least over their actors (and over the days not closed yet).';
comment on column analytics.actor_firsts.event_type is 'The event type, or '''' for events of any type.';
comment on column analytics.actor_firsts.anonymous is 'True when actor is an anonymous id.';
comment on column analytics.actor_firsts.actor is 'The user id (as text) or the anonymous id.';
comment on column analytics.actor_firsts.first_day is 'The first closed UTC day with such an event.';

revoke all on table analytics.actor_days from public, anon, authenticated, service_role, analyst;
grant select on table analytics.actor_days to authenticated, service_role, analyst;
alter table analytics.actor_days enable row level security;
create policy "Superusers can read actor days"
  on analytics.actor_days for select to authenticated
  using ((select private.is_superuser()));
create policy "Analysts can read actor days"
  on analytics.actor_days for select to analyst
  using (true);

revoke all on table analytics.actor_firsts from public, anon, authenticated, service_role, analyst;
grant select on table analytics.actor_firsts to authenticated, service_role, analyst;
alter table analytics.actor_firsts enable row level security;
create policy "Superusers can read actor firsts"
  on analytics.actor_firsts for select to authenticated
  using ((select private.is_superuser()));
create policy "Analysts can read actor firsts"
  on analytics.actor_firsts for select to analyst
  using (true);

-- ---------------------------------------------------------------------------------------
-- Writing one day of it (called by private.close_day)
-- ---------------------------------------------------------------------------------------
create function private.close_actor_day(day date)
returns void
language plpgsql
security definer
set search_path = ''
set jit = off
as $$
#variable_conflict use_column
declare
  lo timestamptz := close_actor_day.day::timestamp at time zone 'UTC';
  hi timestamptz := (close_actor_day.day + 1)::timestamp at time zone 'UTC';
begin
  delete from analytics.actor_days ad where ad.day = close_actor_day.day;
  insert into analytics.actor_days (event_type, day, anonymous, actor, events)
  select coalesce(e.event_type, ''), close_actor_day.day, e.user_id is null,
         coalesce(e.user_id::text, e.anonymous_id), count(*)
    from public.events e
   where e."timestamp" >= lo and e."timestamp" < hi
   group by grouping sets ((e.event_type, e.user_id is null, coalesce(e.user_id::text, e.anonymous_id)),
                           (e.user_id is null, coalesce(e.user_id::text, e.anonymous_id)));

  insert into analytics.actor_firsts (event_type, anonymous, actor, first_day)
  select ad.event_type, ad.anonymous, ad.actor, ad.day
    from analytics.actor_days ad
   where ad.day = close_actor_day.day
  on conflict (event_type, anonymous, actor) do update
    set first_day = excluded.first_day
    where excluded.first_day < analytics.actor_firsts.first_day;
end
$$;
comment on function private.close_actor_day(date) is
  'Rewrites one closed UTC day of analytics.actor_days and moves analytics.actor_firsts earlier where that day is earlier. Called by private.close_day.';
revoke all on function private.close_actor_day(date) from public, anon, authenticated, service_role, analyst;

-- private.close_day: as in 20261127001030_close_day_own_name.sql, plus the actor rollup.
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
  perform private.close_actor_day(close_day.day);
  insert into analytics.aggregated_days (day, aggregated_at) values (close_day.day, now());

  delete from analytics.daily_metrics dm
   where dm.day = close_day.day and dm.metric not in ('weekly_active_users', 'monthly_active_users');
  insert into analytics.daily_metrics (day, metric, dimension, value)
  select close_day.day, c.metric, c.dimension, c.value
    from private.compute_day(close_day.day, null, false) c;
end
$$;
comment on function private.close_day(date) is
  'Recomputes one closed UTC day''s activity (users and actors) and metrics, except the 7- and 30-day windows (see private.refresh_windows). Called by analytics.aggregate_day and analytics.run_daily_aggregation; takes the advisory lock (hashtext(''beacon.close_day''), the day) so one day is closed once at a time.';
revoke all on function private.close_day(date) from public, anon, authenticated, service_role;

-- The days closed before this migration.
select private.close_actor_day(a.day) from analytics.aggregated_days a order by a.day;

-- ---------------------------------------------------------------------------------------
-- Reading it: actors and persons per day, closed days from the rollup, the others live
-- (SQL without SET options, so they inline into the report's query; names qualified)
-- ---------------------------------------------------------------------------------------
create function private.live_actor_days(first_day date, last_day date, of_type text)
returns table (day date, anonymous boolean, actor text)
language sql
stable
as $$
  select d.day, e.anonymous, e.actor
    from (
      -- Bounds computed here so that under RLS the range is a plain index comparison.
      -- A null first_day starts at the first event (a constant argument keeps this
      -- function inlined into the caller; a sub-select as argument would not).
      select s.f + g.i as day,
             (s.f + g.i)::timestamp at time zone 'UTC' as lo,
             (s.f + g.i + 1)::timestamp at time zone 'UTC' as hi
        from (select coalesce(first_day,
                              (select (min(e."timestamp") at time zone 'UTC')::date
                                 from public.events e)) as f) as s
        cross join generate_series(0, last_day - s.f) as g (i)
       where not exists (select 1 from analytics.aggregated_days a where a.day = s.f + g.i)
      offset 0
    ) as d
    cross join lateral (
      select distinct ev.user_id is null as anonymous, coalesce(ev.user_id::text, ev.anonymous_id) as actor
        from public.events ev
       where ev."timestamp" >= d.lo
         and ev."timestamp" < d.hi
         and (of_type is null or ev.event_type = of_type)
    ) as e
$$;
comment on function private.live_actor_days(date, date, text) is
  'Actors with an event of type of_type (null: any) per UTC day between first_day (null: the first event''s day) and last_day, for the days not closed yet, from the events, as the caller sees them.';

create function private.actor_days(first_day date, last_day date, of_type text)
returns table (day date, anonymous boolean, actor text)
language sql
stable
as $$
  select ad.day, ad.anonymous, ad.actor
    from analytics.actor_days ad
   where ad.event_type = coalesce(of_type, '')
     and ad.day between first_day and last_day
  union all
  select l.day, l.anonymous, l.actor from private.live_actor_days(first_day, last_day, of_type) l
$$;
comment on function private.actor_days(date, date, text) is
  'Actors with an event of type of_type (null: any) per UTC day between first_day and last_day: closed days from analytics.actor_days, the others live.';

create function private.person_days(first_day date, last_day date, of_type text)
returns table (day date, person_id text)
language sql
stable
as $$
  -- Collation "C": persons are compared, sorted and hashed by bytes (a linguistic collation
  -- makes the sorts of a million ids several times slower, and orders nothing a reader sees).
  select a.day, (case when a.anonymous then coalesce(l.user_id::text, a.actor) else a.actor end) collate "C"
    from private.actor_days(first_day, last_day, of_type) a
    left join analytics.person_links l on a.anonymous and l.anonymous_id = a.actor
$$;
comment on function private.person_days(date, date, text) is
  'Persons (as analytics.person_events names them) with an event of type of_type (null: any) per UTC day between first_day and last_day. A person with several actors on one day appears once per actor: callers take distinct.';

create function private.person_firsts(of_type text, through_day date)
returns table (person_id text, first_day date)
language sql
stable
as $$
  with actors as (
    select f.anonymous, f.actor, f.first_day
      from analytics.actor_firsts f
     where f.event_type = coalesce(of_type, '') and f.first_day <= through_day
    union all
    select l.anonymous, l.actor, min(l.day)
      from private.live_actor_days(null, through_day, of_type) l
     group by l.anonymous, l.actor
  )
  select (case when a.anonymous then coalesce(pl.user_id::text, a.actor) else a.actor end) collate "C" as person_id,
         min(a.first_day)
    from actors a
    left join analytics.person_links pl on a.anonymous and pl.anonymous_id = a.actor
   group by 1
$$;
comment on function private.person_firsts(text, date) is
  'Every person''s first UTC day (up to through_day) with an event of type of_type (null: any), over all their actors and all history, as the caller sees it.';

create function private.period_index(day date, origin date, period text)
returns integer
language sql
immutable
as $$
  select case period
           when 'day' then day - origin
           when 'week' then (date_trunc('week', day::timestamp)::date - date_trunc('week', origin::timestamp)::date) / 7
           else ((extract(year from day) - extract(year from origin)) * 12
                 + extract(month from day) - extract(month from origin))::integer
         end
$$;
comment on function private.period_index(date, date, text) is
  'How many calendar periods (day, week from Monday, month) day''s period lies after origin''s.';

revoke all on function private.live_actor_days(date, date, text) from public, anon, authenticated, service_role, analyst;
revoke all on function private.actor_days(date, date, text) from public, anon, authenticated, service_role, analyst;
revoke all on function private.person_days(date, date, text) from public, anon, authenticated, service_role, analyst;
revoke all on function private.person_firsts(text, date) from public, anon, authenticated, service_role, analyst;
revoke all on function private.period_index(date, date, text) from public, anon, authenticated, service_role, analyst;
-- The reports run as the caller and call these: the caller needs execute (RLS still decides
-- what the events and rollups show them).
grant execute on function private.live_actor_days(date, date, text) to authenticated, service_role, analyst;
grant execute on function private.actor_days(date, date, text) to authenticated, service_role, analyst;
grant execute on function private.person_days(date, date, text) to authenticated, service_role, analyst;
grant execute on function private.person_firsts(text, date) to authenticated, service_role, analyst;
grant execute on function private.period_index(date, date, text) to authenticated, service_role, analyst;
