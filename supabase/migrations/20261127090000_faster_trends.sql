-- =======================================================================================
-- Faster trends: the live part grouped before it meets the series, weights in float8,
-- percentiles without repeating each weighted row
-- =======================================================================================
-- analytics.trend (20261127020200_trend_hours.sql) measured at 10 M events (bench/trends.ts)
-- spent its time on three things, none of them the rollups:
--
--   * Series read from a rollup (event totals, tracked breakdowns, hour totals) took the
--     days (hours) not rolled up yet, today at least, through the one scan of the raw
--     series: every event of today became one row per series (five series: five rows
--     through a lateral VALUES), then one row of the materialised CTE m. Now those days
--     are read by a scan of their own that groups the events first, by type, day (hour),
--     breakdown value and person (only when a unique series needs it), and only the groups
--     meet the series: a few hundred rows instead of tens of thousands a series. The raw
--     series keep their scan, which reads only their own event types now.
--   * Weights were numeric: every sum(w) in m, tv and agg kept a numeric state per group,
--     allocated and added digit by digit, several microseconds a row. They are float8 now
--     (counts of events, exact as integers far beyond any count here) and become numeric
--     where a value leaves: sum(m.w)::numeric for totals; sum and avg multiply the number
--     by m.w::numeric as before, so their results are the same numerics.
--   * median and p90 repeated each weighted row w times (generate_series) to feed
--     percentile_cont: a 30-day p90 over 1.1 M events sorted 1.1 M rows again after
--     grouping them. Now the weighted numbers are read in order once per bucket with a
--     running sum of the weights, and the two neighbours percentile_cont would interpolate
--     between (0-based floor and ceil of f * (n - 1)) are interpolated as it does,
--     lo + (f * (n - 1) - floor) * (hi - lo) in float8: the same value.
--   * m grouped every source again, the rollups' rows too, which are one a key already:
--     now only the raw events are grouped (they repeat keys by the thousand); the rollups
--     and the grouped live days pass through, a key possibly repeated (a week of days),
--     which every use of m (sums, distinct counts, the percentiles' weights) adds up.
--   * private.trend_number printed a JSON number to text and read it back as numeric, per
--     event: it casts it (jsonb -> numeric), the same value and scale.
--
-- Same signatures, arguments, results, grants and comments.

create or replace function analytics.trend(definition jsonb)
returns table (
  series text,
  label text,
  period text,
  bucket_index integer,
  bucket_start timestamptz,
  breakdown_value text,
  breakdown_rank integer,
  value numeric
)
language plpgsql
stable
set search_path = ''
set jit = off
as $$
declare
  caller constant text := 'analytics.trend';
  today date := (now() at time zone 'UTC')::date;
  n integer;
  s jsonb;
  v_from date;
  v_to date;
  v_bucket text;
  v_step interval;
  v_breakdown text;
  v_top integer;
  v_compare boolean;
  v_formula text;
  formula_sql text;
  first_day date;
  m text;
  prop text;
  ev text;
  kind text;
  cond text;
  maths text[] := array[]::text[];
  labels text[] := array[]::text[];
  open_days date[];
  open_hours timestamp[];
  types text[] := array[]::text[];
  all_typed boolean := true;
  need_person boolean := false;
  scan_lo date;
  lateral_rows text[] := array[]::text[];
  live_rows text[] := array[]::text[];
  live_types text[] := array[]::text[];
  live_all_typed boolean := true;
  live_person boolean := false;
  live_lo date;
  roll_parts text[] := array[]::text[];
  agg_parts text[] := array[]::text[];
  zero_rows text[] := array[]::text[];
  bv_sql text;
  sql text;
begin
  if definition is null or jsonb_typeof(definition) <> 'object' then
    raise exception '%: definition must be a JSON object {"series": [...], "from", "to", ...}', caller using errcode = '22023';
  end if;
  -- The range
  for k in 1 .. 2 loop
    ev := case k when 1 then 'to' else 'from' end;
    if jsonb_typeof(definition -> ev) not in ('string', 'null')
       or (definition ->> ev) !~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}$' then
      raise exception '%: % must be a UTC day (YYYY-MM-DD)', caller, ev using errcode = '22023';
    end if;
    begin
      if k = 1 then
        v_to := coalesce((definition ->> 'to')::date, today);
      else
        v_from := coalesce((definition ->> 'from')::date, v_to - 29);
      end if;
    exception when others then
      raise exception '%: % must be a UTC day (YYYY-MM-DD), not %', caller, ev, definition ->> ev using errcode = '22023';
    end;
  end loop;
  if v_from > v_to then
    raise exception '%: from (%) is after to (%)', caller, v_from, v_to using errcode = '22023';
  end if;
  if v_to - v_from > 365 then
    raise exception '%: from to to spans % days; ask for at most 366', caller, v_to - v_from + 1 using errcode = '22023';
  end if;
  -- Bucket, breakdown, comparison, formula
  if jsonb_typeof(definition -> 'bucket') not in ('string', 'null')
     or coalesce(definition ->> 'bucket', 'day') not in ('hour', 'day', 'week', 'month') then
    raise exception '%: bucket must be hour, day, week or month', caller using errcode = '22023';
  end if;
  v_bucket := coalesce(definition ->> 'bucket', 'day');
  if v_bucket = 'hour' and v_to - v_from > 6 then
    raise exception '%: bucket hour needs a range of at most 7 days, not %', caller, v_to - v_from + 1 using errcode = '22023';
  end if;
  v_step := ('1 ' || v_bucket)::interval;
  if jsonb_typeof(definition -> 'breakdown') not in ('string', 'null')
     or char_length(definition ->> 'breakdown') not between 1 and 200 then
    raise exception '%: breakdown must be a property name of 1 to 200 characters', caller using errcode = '22023';
  end if;
  v_breakdown := definition ->> 'breakdown';
  if jsonb_typeof(definition -> 'breakdown_top') not in ('number', 'null')
     or coalesce((definition ->> 'breakdown_top')::numeric, 5) not in (select generate_series(1, 50)) then
    raise exception '%: breakdown_top must be a whole number from 1 to 50', caller using errcode = '22023';
  end if;
  v_top := coalesce((definition ->> 'breakdown_top')::integer, 5);
  if jsonb_typeof(definition -> 'compare') not in ('boolean', 'null') then
    raise exception '%: compare must be true or false', caller using errcode = '22023';
  end if;
  v_compare := coalesce((definition ->> 'compare')::boolean, false);
  if jsonb_typeof(definition -> 'formula') not in ('string', 'null') then
    raise exception '%: formula must be text such as B / A * 100', caller using errcode = '22023';
  end if;
  v_formula := nullif(btrim(definition ->> 'formula'), '');
  -- The series
  if jsonb_typeof(definition -> 'series') is distinct from 'array'
     or jsonb_array_length(definition -> 'series') not between 1 and 5 then
    raise exception '%: series must be an array of 1 to 5 series', caller using errcode = '22023';
  end if;
  n := jsonb_array_length(definition -> 'series');
  if v_formula is not null then
    formula_sql := private.trend_formula_sql(v_formula, n, caller);
  end if;

  first_day := case when v_compare then v_from - (v_to - v_from + 1) else v_from end;
  open_days := array(select g::date from generate_series(first_day, v_to, interval '1 day') g
                      where not exists (select 1 from analytics.aggregated_days a where a.day = g::date)
                      order by 1);
  -- Hour buckets: the hours the hourly rollup has not closed (analytics.closed_hours) are
  -- read from the events, the others from analytics.hourly_events.
  if v_bucket = 'hour' then
    open_hours := array(select g from generate_series(first_day::timestamp, (v_to + 1)::timestamp - interval '1 hour',
                                                      interval '1 hour') g
                         where not exists (select 1 from analytics.closed_hours c where c.hour = g at time zone 'UTC')
                         order by 1);
  end if;
  bv_sql := case when v_breakdown is null then 'null::text' else format('ev.payload ->> %L', v_breakdown) end;

  for k in 1 .. n loop
    s := definition -> 'series' -> (k - 1);
    if jsonb_typeof(s) is distinct from 'object' then
      raise exception '%: series[%] must be an object {"event", "math", "property", "filters"}', caller, k using errcode = '22023';
    end if;
    cond := private.trend_series_sql(s, k, caller);
    if jsonb_typeof(s -> 'math') not in ('string', 'null')
       or coalesce(s ->> 'math', 'total') not in ('total', 'unique', 'sum', 'avg', 'median', 'p90') then
      raise exception '%: series[%].math must be one of total, unique, sum, avg, median, p90', caller, k using errcode = '22023';
    end if;
    m := coalesce(s ->> 'math', 'total');
    prop := s ->> 'property';
    if m in ('sum', 'avg', 'median', 'p90') then
      if jsonb_typeof(s -> 'property') is distinct from 'string' or char_length(prop) not between 1 and 200 then
        raise exception '%: series[%].property must name the numeric property for math %', caller, k, m using errcode = '22023';
      end if;
    end if;
    ev := s ->> 'event';
    maths := maths || m;
    labels := labels || format('%s: %s, %s', chr(64 + k), coalesce(ev, 'all events'),
                               case m when 'total' then 'total' when 'unique' then 'unique persons'
                                      else m || ' of ' || prop end);

    kind := 'raw';
    if m in ('total', 'unique') and v_bucket <> 'hour'
       and jsonb_array_length(coalesce(nullif(s -> 'filters', 'null'::jsonb), '[]'::jsonb)) = 0 then
      if v_breakdown is null and m = 'total' then
        kind := 'actor';
      elsif ev is not null and exists (select 1 from analytics.tracked_properties t
                                        where t.event_type = ev and t.property = v_breakdown) then
        kind := 'tracked';
      end if;
    elsif m = 'total' and v_bucket = 'hour' and v_breakdown is null
          and jsonb_array_length(coalesce(nullif(s -> 'filters', 'null'::jsonb), '[]'::jsonb)) = 0 then
      kind := 'hourly';
    end if;

    if kind = 'raw' then
      scan_lo := first_day;
      need_person := need_person or m = 'unique';
      if ev is null then all_typed := false; else types := types || ev; end if;
      lateral_rows := lateral_rows || format('(%s, %s, %s)', k, cond,
        case when m in ('sum', 'avg', 'median', 'p90') then format('private.trend_number(e.payload -> %L)', prop)
             else 'null::numeric' end);
    elsif kind = 'hourly' then
      if cardinality(open_hours) > 0 then
        live_lo := least(coalesce(live_lo, open_hours[1]::date), open_hours[1]::date);
        live_rows := live_rows || format('(%s, %s and e.ts = any(%L::timestamp[]), null::numeric)', k, cond, open_hours);
        if ev is null then live_all_typed := false; else live_types := live_types || ev; end if;
      end if;
      roll_parts := roll_parts || format(
        $q$select %1$s, he.hour at time zone 'UTC', null::text, null::text, sum(he.events)::float8, null::numeric
             from analytics.hourly_events he
            where he.hour >= %2$L and he.hour < %3$L and (%4$L::text is null or he.event_type = %4$L)
              and not ((he.hour at time zone 'UTC') = any(%5$L::timestamp[]))
            group by he.hour$q$,
        k, first_day::timestamp at time zone 'UTC', (v_to + 1)::timestamp at time zone 'UTC', ev, open_hours);
    else
      if cardinality(open_days) > 0 then
        live_lo := least(coalesce(live_lo, open_days[1]), open_days[1]);
        live_rows := live_rows || format('(%s, %s and e.day = any(%L::date[]), null::numeric)', k, cond, open_days);
        if ev is null then live_all_typed := false; else live_types := live_types || ev; end if;
        live_person := live_person or m = 'unique';
      end if;
      roll_parts := roll_parts || case
        when kind = 'actor' and m = 'total' then format(
          $q$select %1$s, r.day::timestamp, null::text, null::text, r.value::float8, null::numeric
               from analytics.daily_metrics r
              where r.metric = 'events' and r.dimension = %2$L and r.day between %3$L and %4$L
                and not (r.day = any(%5$L::date[]))$q$, k, coalesce(ev, ''), first_day, v_to, open_days)
        when m = 'total' then format(
          $q$select %1$s, r.day::timestamp, r.value, null::text, r.events::float8, null::numeric
               from analytics.property_days r
              where r.event_type = %2$L and r.property = %6$L and r.day between %3$L and %4$L
                and not (r.day = any(%5$L::date[]))$q$, k, ev, first_day, v_to, open_days, v_breakdown)
        else format(
          $q$select %1$s, r.day::timestamp, r.value,
                    (case when r.anonymous then coalesce(l.user_id::text, r.actor) else r.actor end) collate "C",
                    r.events::float8, null::numeric
               from analytics.property_actor_days r
               left join analytics.person_links l on r.anonymous and l.anonymous_id = r.actor
              where r.event_type = %2$L and r.property = %6$L and r.day between %3$L and %4$L
                and not (r.day = any(%5$L::date[]))$q$, k, ev, first_day, v_to, open_days, v_breakdown)
      end;
    end if;

    if m in ('median', 'p90') then
      -- percentile_cont(f) over the weighted numbers, without repeating each w times: of the
      -- n numbers in order, the ones at (0-based) floor(f * (n - 1)) and ceil(f * (n - 1)),
      -- interpolated as percentile_cont does (lo + (f * (n - 1) - floor) * (hi - lo), in
      -- float8), found by the running sum of the weights (the first number whose running
      -- sum passes the position; rows of equal numbers need not be merged for that).
      agg_parts := agg_parts || format(
        $q$select c.k, c.p, c.t, c.v, c.rk,
                  (case when ceil(c.r) > floor(c.r)
                        then min(c.x) filter (where c.c > floor(c.r))
                             + ((c.r - floor(c.r)) * (min(c.x) filter (where c.c > ceil(c.r))
                                                      - min(c.x) filter (where c.c > floor(c.r))))
                        else min(c.x) filter (where c.c > floor(c.r)) end)::numeric as value
             from (select m.k, m.p, m.t, %2$s as v, %3$s as rk, m.num::float8 as x,
                          %1$s::float8 * ((sum(m.w) over g) - 1) as r,
                          sum(m.w) over (g order by m.num::float8 rows between unbounded preceding and current row) as c
                     from m %4$s where m.k = %5$s and m.num is not null
                   window g as (partition by m.k, m.p, m.t, %2$s, %3$s)) as c
            group by c.k, c.p, c.t, c.v, c.rk, c.r$q$,
        case m when 'median' then '0.5' else '0.9' end,
        case when v_breakdown is null then 'null::text' else '(coalesce(tv.v, ''(other)''))' end,
        case when v_breakdown is null then '0' else format('coalesce(tv.rk, %s)', v_top + 1) end,
        case when v_breakdown is null then '' else 'left join tv on tv.v = coalesce(m.bv, ''(none)'')' end,
        k);
    else
      agg_parts := agg_parts || format('select m.k, m.p, m.t, %s as v, %s as rk, %s as value from m %s where m.k = %s %s group by 1, 2, 3, 4, 5',
        case when v_breakdown is null then 'null::text' else '(coalesce(tv.v, ''(other)''))' end,
        case when v_breakdown is null then '0' else format('coalesce(tv.rk, %s)', v_top + 1) end,
        case m when 'total' then 'sum(m.w)::numeric'
               when 'unique' then 'count(distinct m.person_id)::numeric'
               when 'sum' then 'sum(m.num * m.w::numeric)'
               else 'sum(m.num * m.w::numeric) / sum(m.w)::numeric' end,
        case when v_breakdown is null then '' else 'left join tv on tv.v = coalesce(m.bv, ''(none)'')' end,
        k,
        case when m in ('sum', 'avg') then 'and m.num is not null' else '' end);
    end if;
    zero_rows := zero_rows || format('(%s, %L::boolean)', k, m in ('total', 'unique', 'sum'));
  end loop;

  -- Every source as (k, day or instant, breakdown value, person, weight, number): the events
  -- of the raw series one row each (raw), the rollups and the grouped live days (src).
  sql := 'with raw as (';
  if cardinality(lateral_rows) > 0 then
    sql := sql || format(
      $q$select x.k, e.ts, e.bv, e.person_id, 1::float8 as w, x.num
           from (select ev.event_type, ev.payload, ev."timestamp" at time zone 'UTC' as ts,
                        (ev."timestamp" at time zone 'UTC')::date as day, %1$s as bv, %2$s as person_id
                   from public.events ev %3$s
                  where ev."timestamp" >= %4$L and ev."timestamp" < %5$L %6$s
                 offset 0) as e
          cross join lateral (values %7$s) as x (k, ok, num)
          where x.ok$q$,
      bv_sql,
      case when need_person then 'coalesce(ev.user_id::text, l.user_id::text, ev.anonymous_id) collate "C"' else 'null::text' end,
      case when need_person then 'left join analytics.person_links l on ev.user_id is null and l.anonymous_id = ev.anonymous_id' else '' end,
      scan_lo::timestamp at time zone 'UTC', (v_to + 1)::timestamp at time zone 'UTC',
      case when all_typed then format('and ev.event_type = any(%L::text[])', types) else '' end,
      array_to_string(lateral_rows, ', '));
  else
    sql := sql || 'select null::integer as k, null::timestamp as ts, null::text as bv, null::text as person_id, null::float8 as w, null::numeric as num where false';
  end if;
  sql := sql || '), src as (select null::integer as k, null::timestamp as ts, null::text as bv, null::text as person_id, null::float8 as w, null::numeric as num where false';
  if cardinality(live_rows) > 0 then
    sql := sql || format(
      $q$ union all
         select x.k, e.ts, e.bv, e.person_id, e.w, x.num
           from (select e.event_type, e.ts, e.day, e.bv, e.person_id, count(*)::float8 as w
                   from (select ev.event_type, date_trunc(%1$L, ev."timestamp" at time zone 'UTC') as ts,
                                (ev."timestamp" at time zone 'UTC')::date as day, %2$s as bv, %3$s as person_id
                           from public.events ev %4$s
                          where ev."timestamp" >= %5$L and ev."timestamp" < %6$L %7$s
                         offset 0) as e
                  group by 1, 2, 3, 4, 5
                 offset 0) as e
          cross join lateral (values %8$s) as x (k, ok, num)
          where x.ok$q$,
      case when v_bucket = 'hour' then 'hour' else 'day' end,
      bv_sql,
      case when live_person then 'coalesce(ev.user_id::text, l.user_id::text, ev.anonymous_id) collate "C"' else 'null::text' end,
      case when live_person then 'left join analytics.person_links l on ev.user_id is null and l.anonymous_id = ev.anonymous_id' else '' end,
      live_lo::timestamp at time zone 'UTC', (v_to + 1)::timestamp at time zone 'UTC',
      case when live_all_typed then format('and ev.event_type = any(%L::text[])', live_types) else '' end,
      array_to_string(live_rows, ', '));
  end if;
  if cardinality(roll_parts) > 0 then
    sql := sql || ' union all ' || array_to_string(roll_parts, ' union all ');
  end if;
  sql := sql || format($q$),
    m as materialized (
      -- Rows of series, period, bucket, value, person (unique only) and number (numeric
      -- math only), weighted by how many events they stand for: the raw events grouped,
      -- the rollups and live groups as they are (a key may repeat: every use of m adds up).
      select s.k, case when s.ts >= %1$L then 'current' else 'previous' end as p,
             date_trunc(%2$L, s.ts) as t, s.bv, s.person_id, s.num, sum(s.w) as w
        from raw s
       group by 1, 2, 3, 4, 5, 6
      union all
      select s.k, case when s.ts >= %1$L then 'current' else 'previous' end,
             date_trunc(%2$L, s.ts), s.bv, s.person_id, s.num, s.w
        from src s
    ),
    tv as (
      select coalesce(m.bv, '(none)') as v,
             (row_number() over (order by sum(m.w) desc, coalesce(m.bv, '(none)') collate "C"))::integer as rk
        from m where m.p = 'current' and %3$L::text is not null
       group by 1 order by 2 limit %4$s
    ),
    lb as (
      select null::text as v, 0 as rk where %3$L::text is null
      union all select tv.v, tv.rk from tv
      union all select '(other)', %4$s + 1
       where %3$L::text is not null
         and exists (select 1 from m where not exists (select 1 from tv where tv.v = coalesce(m.bv, '(none)')))
    ),
    grid as (
      select 'current'::text as p, (row_number() over (order by g) - 1)::integer as idx, g as t
        from generate_series(date_trunc(%2$L, %5$L::timestamp), %6$L::timestamp, %7$L::interval) g
      union all
      select 'previous', (row_number() over (order by g) - 1)::integer, g
        from generate_series(date_trunc(%2$L, %8$L::timestamp), %9$L::timestamp, %7$L::interval) g
       where %10$L::boolean
    ),
    agg as (%11$s),
    filled as (
      select z.k, g.p, g.idx, g.t, lb.v, lb.rk,
             case when z.zero then coalesce(a.value, 0) else a.value end as value
        from (values %12$s) as z (k, zero)
       cross join grid g cross join lb
        left join agg a on a.k = z.k and a.p = g.p and a.t = g.t and a.rk = lb.rk
    )
    select * from (
    select chr(64 + f.k) as series, (%13$L::text[])[f.k] as label, f.p as period, f.idx as bucket_index,
           f.t at time zone 'UTC' as bucket_start, f.v as breakdown_value, f.rk as breakdown_rank, f.value
      from filled f
    $q$,
    v_from::timestamp,
    v_bucket,
    v_breakdown,
    v_top,
    v_from,
    case when v_bucket = 'hour' then (v_to + 1)::timestamp - interval '1 hour' else v_to::timestamp end,
    v_step,
    first_day,
    case when v_bucket = 'hour' then v_from::timestamp - interval '1 hour' else (v_from - 1)::timestamp end,
    v_compare,
    array_to_string(agg_parts, ' union all '),
    array_to_string(zero_rows, ', '),
    labels);
  if formula_sql is not null then
    sql := sql || format($q$
      union all
      select 'formula', %1$L, q.p, q.idx, q.t at time zone 'UTC', q.v, q.rk, %2$s
        from (select f.p, f.idx, f.t, f.v, f.rk,
                     max(f.value) filter (where f.k = 1) as a, max(f.value) filter (where f.k = 2) as b,
                     max(f.value) filter (where f.k = 3) as c, max(f.value) filter (where f.k = 4) as d,
                     max(f.value) filter (where f.k = 5) as e
                from filled f group by 1, 2, 3, 4, 5) as q
      $q$, 'Formula: ' || v_formula, formula_sql);
  end if;
  sql := sql || ') as r order by r.series = ''formula'', r.series, r.period = ''previous'', r.breakdown_rank, r.bucket_index';
  return query execute sql;
end
$$;

-- private.trend_number: a JSON number is cast to numeric as it is (jsonb -> numeric), no
-- longer printed to text and read back; the same value and scale. Strings as before.
create or replace function private.trend_number(v jsonb)
returns numeric
language sql
immutable
as $$
  select case jsonb_typeof(v)
           when 'number' then v::numeric
           when 'string' then case when (v #>> '{}') ~ '^[-+]?([0-9]+[.]?[0-9]*|[.][0-9]+)([eE][-+]?[0-9]{1,3})?$'
                                   then (v #>> '{}')::numeric end
         end
$$;
