-- =======================================================================================
-- Retention, lifecycle, stickiness and feature adoption read person bitmaps (20261127003200_person_bits.sql)
-- =======================================================================================
-- Same names, arguments, results and definitions as 20261127003110_retention_lifecycle.sql;
-- only the way they count changes: sets of persons per period are bitmap pages, combined
-- with | & ~ and counted with bit_count, instead of one row per person and day.


create or replace function analytics.retention(
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
  -- One call for both sets: persons not numbered yet get the same numbers in both.
  with sets as materialized (
    select s.event_type, s.b, s.page, s.bits
      from private.person_bits(array[start_event, coalesce(return_event, '')], origin, window_end, origin, period, true) s
  ),
  starts as (
    select s.b, s.page, s.bits from sets s where s.event_type = start_event
  ),
  pages as (select distinct s.page from starts s where s.b >= 0),
  -- A cohort is the persons whose first start_event falls in its period: not in any
  -- earlier period nor before the range.
  firsts as materialized (
    select g.page, g.c,
           coalesce(s.bits, private.zero_page())
             & ~(coalesce(bit_or(s.bits) over (partition by g.page order by g.c
                                                rows between unbounded preceding and 1 preceding),
                          private.zero_page())
                 | coalesce(pre.bits, private.zero_page())) as bits
      from (select p.page, c.i as c from pages p cross join generate_series(0, periods - 1) as c (i)) as g
      left join starts s on s.page = g.page and s.b = g.c
      left join starts pre on pre.page = g.page and pre.b = -1000000
  ),
  returning_bits as (
    select r.b, r.page, r.bits from sets r where r.event_type = coalesce(return_event, '') and r.b >= 0
  ),
  sizes as (
    select f.c as cohort, sum(bit_count(f.bits)) as n from firsts f group by f.c
  ),
  returns as (
    select f.c as cohort, r.b - f.c as k, sum(bit_count(f.bits & r.bits)) as n
      from firsts f
      join returning_bits r on r.page = f.page and r.b > f.c
     group by f.c, r.b - f.c
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

create or replace function analytics.lifecycle(
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
  with act as materialized (
    select a.b, a.page, a.bits
      from private.person_bits(array[coalesce(lifecycle.event_type, '')], (origin - step)::date,
                               (origin + (last_index + 1) * step)::date - 1, origin, lifecycle.bucket, true) a
  ),
  pages as (select distinct a.page from act a),
  grid as materialized (
    select g.page, g.b,
           coalesce(a.bits, private.zero_page()) as bits,
           coalesce(lag(a.bits) over w, private.zero_page()) as previous,
           coalesce(bit_or(a.bits) over (w rows between unbounded preceding and 1 preceding), private.zero_page())
             | coalesce(pre.bits, private.zero_page()) as seen
      from (select p.page, i.i as b from pages p cross join generate_series(-1, last_index) as i (i)) as g
      left join act a on a.page = g.page and a.b = g.b
      left join act pre on pre.page = g.page and pre.b = -1000000
    window w as (partition by g.page order by g.b)
  ),
  counts as (
    select g.b,
           sum(bit_count(g.bits & ~g.seen)) as n_new,
           sum(bit_count(g.bits & g.previous)) as n_returning,
           sum(bit_count(g.bits & ~g.previous & g.seen)) as n_resurrecting,
           sum(bit_count(g.previous & ~g.bits)) as n_dormant
      from grid g
     where g.b >= 0
     group by g.b
  )
  select (origin + g.i * step)::date, st.status, st.n::bigint
    from generate_series(0, last_index) as g (i)
    left join counts c on c.b = g.i
    cross join lateral (values (1, 'new', coalesce(c.n_new, 0)),
                               (2, 'returning', coalesce(c.n_returning, 0)),
                               (3, 'resurrecting', coalesce(c.n_resurrecting, 0)),
                               (4, 'dormant', -coalesce(c.n_dormant, 0))) as st (o, status, n)
   order by g.i, st.o;
end
$$;


create or replace function analytics.stickiness(
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
  counts bigint[];
  grp record;
  x bit varying;
  planes bit varying[];
  carry bit varying;
  t bit varying;
  m bit varying;
  n integer;
  q integer;
  max_days integer;
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

  max_days := case when period = 'week' then 7 else 31 end;
  counts := array_fill(0::bigint, array[(last_index + 1) * 32]);
  -- Per period and page, the number of days each person was active, as five bit planes
  -- (a binary counter per person, added to one day at a time), then the persons at each count.
  for grp in
    select private.period_index(from_day + d.b, origin, period) as i, d.page, array_agg(d.bits) as days
      from private.person_bits(array[coalesce(stickiness.event_type, '')], from_day, to_day, from_day, 'day', false) d
     group by 1, 2
  loop
    planes := array[private.zero_page(), private.zero_page(), private.zero_page(), private.zero_page(), private.zero_page()];
    foreach x in array grp.days loop
      carry := x;
      for q in 1 .. 5 loop
        t := planes[q] & carry;
        planes[q] := planes[q] # carry;
        carry := t;
      end loop;
    end loop;
    for n in 1 .. max_days loop
      m := ~private.zero_page();
      for q in 1 .. 5 loop
        if (n >> (q - 1)) & 1 = 1 then
          m := m & planes[q];
        else
          m := m & ~planes[q];
        end if;
      end loop;
      counts[grp.i * 32 + n + 1] := counts[grp.i * 32 + n + 1] + bit_count(m);
    end loop;
  end loop;

  return query
  with windows as (
    select g.i, (origin + g.i * step)::date as start,
           (least((origin + (g.i + 1) * step)::date - 1, to_day)
            - greatest((origin + g.i * step)::date, from_day) + 1) as length
      from generate_series(0, last_index) as g (i)
  ),
  cells as (
    select w.start, d.n::integer as days, counts[w.i * 32 + d.n + 1] as persons
      from windows w
      cross join lateral generate_series(1, w.length) as d (n)
  )
  select c.start, c.days, c.persons::bigint from cells c
  union all
  select null::date, c.days, sum(c.persons)::bigint from cells c group by c.days
  order by 1 nulls last, 2;
end
$$;

create or replace function analytics.feature_adoption(from_day date, to_day date, top integer default 20)
returns table (event_type text, persons bigint, active_persons bigint, percentage numeric)
language plpgsql
stable
set search_path = ''
set jit = off
-- Planned for the values of each call: a cached generic plan cannot see the range's size.
set plan_cache_mode = force_custom_plan
as $$
#variable_conflict use_column
begin
  perform private.check_report_range('analytics.feature_adoption', from_day, to_day);
  if top is null or top < 1 or top > 1000 then
    raise exception 'analytics.feature_adoption: top must be from 1 to 1000, not %', coalesce(top::text, 'null')
      using errcode = '22023';
  end if;
  return query
  with per_type as (
    select p.event_type, sum(bit_count(p.bits)) as n
      from private.person_bits(null, from_day, to_day, from_day, 'all', false) p
     group by p.event_type
  ),
  everyone as (
    select coalesce((select pt.n from per_type pt where pt.event_type = ''), 0) as active
  )
  select p.event_type, p.n::bigint, e.active::bigint,
         case when e.active > 0 then round(100.0 * p.n / e.active, 2) end
    from per_type p cross join everyone e
   where p.event_type <> ''
   order by p.n desc, p.event_type
   limit top;
end
$$;

-- The actor rollup and its readers are replaced by the person bitmaps.
drop function private.person_firsts(text, date);
drop function private.person_days(date, date, text);
drop function private.actor_days(date, date, text);
drop function private.live_actor_days(date, date, text);
drop function private.close_actor_day(date);
drop table analytics.actor_firsts;
drop table analytics.actor_days;
