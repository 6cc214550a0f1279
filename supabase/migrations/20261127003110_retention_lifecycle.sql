-- =======================================================================================
-- Retention, lifecycle, stickiness and feature adoption: person reports as SQL functions
-- =======================================================================================
-- All four count persons (analytics.person_events' person_id: the user, else the anonymous
-- id, an anonymous id's events joined to the user it was first linked to) over UTC days,
-- read through RLS as the caller (superusers and analysts see events), from the nightly
-- actor rollup for closed days and live for the others (see 20261127003100_person_activity).
-- Periods are calendar days, weeks (from Monday) and months. A bad argument raises SQLSTATE
-- 22023 with a message that starts "analytics.<function>: <argument> ...".

create function private.check_report_range(fn text, from_day date, to_day date)
returns void
language plpgsql
immutable
set search_path = ''
as $$
begin
  if from_day is null then
    raise exception '%: from_day must not be null', fn using errcode = '22023';
  end if;
  if to_day is null then
    raise exception '%: to_day must not be null', fn using errcode = '22023';
  end if;
  if from_day > to_day then
    raise exception '%: from_day (%) is after to_day (%)', fn, from_day, to_day using errcode = '22023';
  end if;
  if to_day - from_day > 3660 then
    raise exception '%: from_day (%) to to_day (%) is longer than 10 years', fn, from_day, to_day
      using errcode = '22023', hint = 'Ask for at most 3661 days at a time.';
  end if;
end
$$;
comment on function private.check_report_range(text, date, date) is
  'Raises 22023 naming the argument when a report''s from_day/to_day range is missing, reversed or longer than 10 years.';
revoke all on function private.check_report_range(text, date, date) from public, anon, authenticated, service_role, analyst;
grant execute on function private.check_report_range(text, date, date) to authenticated, service_role, analyst;

-- ---------------------------------------------------------------------------------------
-- Retention
-- ---------------------------------------------------------------------------------------
create function analytics.retention(
  from_day date,
  periods integer default 12,
  period text default 'week',
  start_event text default 'user_signup',
  return_event text default null
)
returns table (cohort_start date, cohort_size bigint, period_offset integer, retained bigint, percentage numeric)
language plpgsql
stable
set search_path = ''
set jit = off
-- Planned for the values of each call: a cached generic plan cannot see the range's size.
set plan_cache_mode = force_custom_plan
as $$
#variable_conflict use_column
declare
  today date := (now() at time zone 'UTC')::date;
  origin date;
  window_end date;
begin
  if from_day is null then
    raise exception 'analytics.retention: from_day must not be null' using errcode = '22023';
  end if;
  if periods is null or periods < 1 or periods > 60 then
    raise exception 'analytics.retention: periods must be from 1 to 60, not %', coalesce(periods::text, 'null')
      using errcode = '22023';
  end if;
  if period is null or period not in ('day', 'week', 'month') then
    raise exception 'analytics.retention: period must be day, week or month, not "%"', coalesce(period, 'null')
      using errcode = '22023';
  end if;
  if start_event is null or start_event = '' then
    raise exception 'analytics.retention: start_event must name an event type' using errcode = '22023';
  end if;
  if return_event = '' then
    raise exception 'analytics.retention: return_event must name an event type, or be null for any event'
      using errcode = '22023';
  end if;
  if from_day < date '1900-01-01' or from_day > date '9999-01-01' then
    raise exception 'analytics.retention: from_day (%) is out of range', from_day using errcode = '22023';
  end if;

  origin := date_trunc(period, from_day::timestamp)::date;
  window_end := (origin + periods * ('1 ' || period)::interval)::date - 1;

  return query
  with firsts as (
    select f.person_id, private.period_index(f.first_day, origin, period) as cohort
      from private.person_firsts(start_event, window_end) f
     where f.first_day >= origin
  ),
  activity as (
    select distinct pd.person_id, private.period_index(pd.day, origin, period) as p
      from private.person_days(origin, window_end, return_event) pd
  ),
  sizes as (
    select f.cohort, count(*) as n from firsts f group by f.cohort
  ),
  returns as (
    select f.cohort, a.p - f.cohort as k, count(*) as n
      from firsts f
      join activity a on a.person_id = f.person_id and a.p > f.cohort
     group by f.cohort, a.p - f.cohort
  ),
  grid as (
    select c.i as cohort, k.k, (origin + c.i * ('1 ' || period)::interval)::date as cohort_start
      from generate_series(0, periods - 1) as c (i)
      cross join generate_series(0, periods - 1) as k (k)
     where c.i + k.k < periods
       and (origin + (c.i + k.k) * ('1 ' || period)::interval)::date <= today
  ),
  cells as (
    select g.cohort_start, coalesce(s.n, 0) as size, g.k,
           case when g.k = 0 then coalesce(s.n, 0) else coalesce(r.n, 0) end as retained
      from grid g
      left join sizes s on s.cohort = g.cohort
      left join returns r on r.cohort = g.cohort and r.k = g.k
  )
  select c.cohort_start, c.size::bigint, c.k::integer, c.retained::bigint,
         case when c.size > 0 then round(100.0 * c.retained / c.size, 2) end
    from cells c
  union all
  select null::date, sum(c.size)::bigint, c.k::integer, sum(c.retained)::bigint,
         case when sum(c.size) > 0 then round(100.0 * sum(c.retained) / sum(c.size), 2) end
    from cells c
   group by c.k
   order by 1 nulls last, 3;
end
$$;
comment on function analytics.retention(date, integer, text, text, text) is
  'Retention cohorts of persons. A person''s cohort is the calendar period (day, week from Monday, month) of their FIRST EVER start_event (all history, not only the range: first-time retention); cohorts are the `periods` periods from the one holding from_day. For cohort c and period_offset k (0 .. periods-1-c, and only periods that have begun by today UTC) retained counts the cohort''s persons with a return_event (null: any event) in period c+k; offset 0 is the whole cohort (100%). percentage = 100 * retained / cohort_size, 2 decimals, null for an empty cohort. Rows with cohort_start null are the average curve, weighted by cohort size as PostHog does: per offset, the sums over the cohorts that reached it. Persons as in analytics.person_events; read through RLS as the caller. Bad arguments raise 22023 naming the argument.';
revoke all on function analytics.retention(date, integer, text, text, text) from public, anon, authenticated, service_role, analyst;
grant execute on function analytics.retention(date, integer, text, text, text) to authenticated, service_role, analyst;

-- ---------------------------------------------------------------------------------------
-- Lifecycle
-- ---------------------------------------------------------------------------------------
create function analytics.lifecycle(
  from_day date,
  to_day date,
  event_type text default null,
  bucket text default 'day'
)
returns table (bucket_start date, status text, persons bigint)
language plpgsql
stable
set search_path = ''
set jit = off
-- Planned for the values of each call: a cached generic plan cannot see the range's size.
set plan_cache_mode = force_custom_plan
as $$
#variable_conflict use_column
declare
  origin date;
  last_index integer;
  step interval;
begin
  perform private.check_report_range('analytics.lifecycle', from_day, to_day);
  if bucket is null or bucket not in ('day', 'week', 'month') then
    raise exception 'analytics.lifecycle: bucket must be day, week or month, not "%"', coalesce(bucket, 'null')
      using errcode = '22023';
  end if;
  if lifecycle.event_type = '' then
    raise exception 'analytics.lifecycle: event_type must name an event type, or be null for any event'
      using errcode = '22023';
  end if;
  step := ('1 ' || bucket)::interval;
  origin := date_trunc(bucket, from_day::timestamp)::date;
  last_index := private.period_index(to_day, origin, bucket);

  return query
  with activity as (
    select distinct pd.person_id, private.period_index(pd.day, origin, lifecycle.bucket) as b
      from private.person_days((origin - step)::date,
                               (origin + (last_index + 1) * step)::date - 1,
                               lifecycle.event_type) pd
  ),
  firsts as (
    select f.person_id, private.period_index(f.first_day, origin, lifecycle.bucket) as b
      from private.person_firsts(lifecycle.event_type, (origin + (last_index + 1) * step)::date - 1) f
     where f.first_day >= origin
  ),
  -- Each person's active buckets in order: the previous and next one say returning,
  -- resurrecting and dormant in one sort (self-joins of a million rows cost several).
  marked as (
    select a.person_id, a.b,
           lag(a.b) over w as previous_b,
           lead(a.b) over w as next_b
      from activity a
    window w as (partition by a.person_id order by a.b)
  ),
  -- Counted per bucket (an integer key) rather than per status row.
  active_counts as (
    select m.b,
           count(*) filter (where f.b = m.b) as n_new,
           count(*) filter (where f.b is distinct from m.b and m.previous_b = m.b - 1) as n_returning,
           count(*) filter (where f.b is distinct from m.b and m.previous_b is distinct from m.b - 1)
             as n_resurrecting
      from marked m
      left join firsts f on f.person_id = m.person_id
     where m.b >= 0
     group by m.b
  ),
  dormant_counts as (
    select m.b + 1 as b, count(*) as n
      from marked m
     where m.b + 1 between 0 and last_index
       and (m.next_b is null or m.next_b > m.b + 1)
     group by m.b + 1
  )
  select (origin + g.i * step)::date, st.status, st.n::bigint
    from generate_series(0, last_index) as g (i)
    left join active_counts a on a.b = g.i
    left join dormant_counts d on d.b = g.i
    cross join lateral (values (1, 'new', coalesce(a.n_new, 0)),
                               (2, 'returning', coalesce(a.n_returning, 0)),
                               (3, 'resurrecting', coalesce(a.n_resurrecting, 0)),
                               (4, 'dormant', -coalesce(d.n, 0))) as st (o, status, n)
   order by g.i, st.o;
end
$$;
comment on function analytics.lifecycle(date, date, text, text) is
  'Lifecycle of persons doing event_type (null: any event) per calendar bucket (day, week from Monday, month) from the one holding from_day to the one holding to_day (whole buckets). Per bucket: new = active in it and their first ever such event is in it; returning = active in it and in the previous bucket; resurrecting = active in it, not in the previous one, but before; dormant = active in the previous bucket, not in this one, reported as a NEGATIVE count as PostHog does. Four rows per bucket, zero counts included. Persons as in analytics.person_events; read through RLS as the caller. Bad arguments raise 22023 naming the argument.';
revoke all on function analytics.lifecycle(date, date, text, text) from public, anon, authenticated, service_role, analyst;
grant execute on function analytics.lifecycle(date, date, text, text) to authenticated, service_role, analyst;

-- ---------------------------------------------------------------------------------------
-- Stickiness
-- ---------------------------------------------------------------------------------------
create function analytics.stickiness(
  from_day date,
  to_day date,
  event_type text default null,
  period text default 'week'
)
returns table (period_start date, days integer, persons bigint)
language plpgsql
stable
set search_path = ''
set jit = off
-- Planned for the values of each call: a cached generic plan cannot see the range's size.
set plan_cache_mode = force_custom_plan
as $$
#variable_conflict use_column
declare
  origin date;
  last_index integer;
  step interval;
begin
  perform private.check_report_range('analytics.stickiness', from_day, to_day);
  if period is null or period not in ('week', 'month') then
    raise exception 'analytics.stickiness: period must be week or month, not "%"', coalesce(period, 'null')
      using errcode = '22023';
  end if;
  if stickiness.event_type = '' then
    raise exception 'analytics.stickiness: event_type must name an event type, or be null for any event'
      using errcode = '22023';
  end if;
  step := ('1 ' || period)::interval;
  origin := date_trunc(period, from_day::timestamp)::date;
  last_index := private.period_index(to_day, origin, period);

  return query
  with windows as (
    select g.i, (origin + g.i * step)::date as start,
           (least((origin + (g.i + 1) * step)::date - 1, to_day)
            - greatest((origin + g.i * step)::date, from_day) + 1) as length
      from generate_series(0, last_index) as g (i)
  ),
  per_person as (
    select private.period_index(pd.day, origin, stickiness.period) as i, pd.person_id,
           count(distinct pd.day) as n
      from private.person_days(from_day, to_day, stickiness.event_type) pd
     group by 1, 2
  ),
  counts as (
    select p.i, p.n, count(*) as persons from per_person p group by p.i, p.n
  ),
  cells as (
    select w.start, d.n::integer as days, coalesce(c.persons, 0) as persons
      from windows w
      cross join lateral generate_series(1, w.length) as d (n)
      left join counts c on c.i = w.i and c.n = d.n
  )
  select c.start, c.days, c.persons::bigint from cells c
  union all
  select null::date, c.days, sum(c.persons)::bigint from cells c group by c.days
  order by 1 nulls last, 2;
end
$$;
comment on function analytics.stickiness(date, date, text, text) is
  'Stickiness of event_type (null: any event): for each calendar period (week from Monday, or month) cut to from_day .. to_day, how many persons did it on exactly `days` distinct UTC days of it (1 .. the days the cut period holds; zero counts included). Rows with period_start null sum every period (person-periods), the histogram PostHog draws for the interval. Persons as in analytics.person_events; read through RLS as the caller. Bad arguments raise 22023 naming the argument.';
revoke all on function analytics.stickiness(date, date, text, text) from public, anon, authenticated, service_role, analyst;
grant execute on function analytics.stickiness(date, date, text, text) to authenticated, service_role, analyst;

-- ---------------------------------------------------------------------------------------
-- Feature adoption
-- ---------------------------------------------------------------------------------------
create function analytics.feature_adoption(from_day date, to_day date, top integer default 20)
returns table (event_type text, persons bigint, active_persons bigint, percentage numeric)
language plpgsql
stable
set search_path = ''
set jit = off
-- Planned for the values of each call: a cached generic plan cannot see the range's size.
set plan_cache_mode = force_custom_plan
as $$
#variable_conflict use_column
declare
  active bigint;
begin
  perform private.check_report_range('analytics.feature_adoption', from_day, to_day);
  if top is null or top < 1 or top > 1000 then
    raise exception 'analytics.feature_adoption: top must be from 1 to 1000, not %', coalesce(top::text, 'null')
      using errcode = '22023';
  end if;
  select count(distinct pd.person_id) into active from private.person_days(from_day, to_day, null) pd;

  return query
  with typed as (
    select ad.event_type, ad.anonymous, ad.actor
      from analytics.actor_days ad
     where ad.event_type <> '' and ad.day between from_day and to_day
    union all
    select e.event_type, e.anonymous, e.actor
      from (
        select (from_day + g.i)::timestamp at time zone 'UTC' as lo,
               (from_day + g.i + 1)::timestamp at time zone 'UTC' as hi
          from generate_series(0, to_day - from_day) as g (i)
         where not exists (select 1 from analytics.aggregated_days a where a.day = from_day + g.i)
        offset 0
      ) as d
      cross join lateral (
        select distinct ev.event_type, ev.user_id is null as anonymous,
               coalesce(ev.user_id::text, ev.anonymous_id) as actor
          from public.events ev
         where ev."timestamp" >= d.lo and ev."timestamp" < d.hi
      ) as e
  ),
  per_type as (
    select t.event_type,
           count(distinct case when t.anonymous then coalesce(l.user_id::text, t.actor) else t.actor end) as n
      from typed t
      left join analytics.person_links l on t.anonymous and l.anonymous_id = t.actor
     group by t.event_type
  )
  select p.event_type, p.n::bigint, active,
         case when active > 0 then round(100.0 * p.n / active, 2) end
    from per_type p
   order by p.n desc, p.event_type
   limit top;
end
$$;
comment on function analytics.feature_adoption(date, date, integer) is
  'Feature adoption from from_day to to_day (UTC days): for each event type, the persons who did it, the active persons of the range (any event) and the share in percent (2 decimals); the `top` types by persons (ties by name). Persons as in analytics.person_events; read through RLS as the caller. Bad arguments raise 22023 naming the argument.';
revoke all on function analytics.feature_adoption(date, date, integer) from public, anon, authenticated, service_role, analyst;
grant execute on function analytics.feature_adoption(date, date, integer) to authenticated, service_role, analyst;
