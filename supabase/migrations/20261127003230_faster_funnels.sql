-- =======================================================================================
-- Faster funnels: narrower sort keys, chains by window passes instead of self-joins
-- =======================================================================================
-- Same signature, semantics and results as private.funnel_attempts of
-- 20261127003000_funnels.sql (read its header for the rules). What changes is the plan:
--
-- * Persons are sorted as (user uuid, anonymous id never linked) instead of one 36-character
--   text made by uuid_out for every event: 16-byte fixed comparisons, narrower rows through
--   the sort, and the text made once per person at the end.
-- * Each attempt's later steps come from window passes over the same order (sorted once),
--   not from joining the materialized per-event CTE to itself once per step beyond the
--   second (a hash build and probe of every step event, or two more sorts). The next
--   instant of a step only grows with the instant it starts from, so "the next step-k
--   instant after the next step-(k-1) instant" is the least such value over the later rows
--   of step k - 1: one more min() over the same frame per pass.
-- * Step-1-only events after to_day (inside the window tail) can never enter nor be a
--   later step: they are dropped before the sort.
--
-- enable_nestloop stays off (20261127003220_funnel_plans.sql): the one join left, events
-- to person_links, is over every step event.
--
-- Measured at 1 M bench events (bench/data.ts), 3 steps, 30 days, 14-day window, as a
-- superuser through RLS, on a loaded 2-core machine, old and new alternating in one
-- database: 0.71 and 0.80 of the old time (medians of 3 and 5 runs), the same rows for
-- 3-, 5- and 2-step funnels with filters and breakdowns. The sort of the step events is
-- still most of the time (with the scan); 10 M was not measured here.
--
-- One corner differs from the text key: an anonymous id (chosen by the client) spelling a
-- user's uuid as text was merged with that user by coincidence of spelling; it is now a
-- person of its own. Links between anonymous ids and users are analytics.person_links,
-- which is followed as before.

create or replace function private.funnel_attempts(
  steps jsonb,
  from_day date,
  to_day date,
  conversion_window interval,
  breakdown text,
  caller text
)
returns table (person_id text, is_user boolean, breakdown_value text, level integer, times timestamptz[])
language plpgsql
stable
set search_path = ''
set jit = off
set enable_nestloop = off
as $$
declare
  n integer;
  lo timestamptz;
  hi_enter timestamptz;
  hi timestamptz;
  types text[];
  anonymous_step boolean;
  subscription_step boolean;
  mask_sql text := '';
  passes text := '';
  cols text;
  time_cols text := 'x.ts';
  sql text;
begin
  if steps is null or jsonb_typeof(steps) <> 'array' then
    raise exception '%: steps must be a JSON array of 2 to 10 steps', caller using errcode = '22023';
  end if;
  n := jsonb_array_length(steps);
  if n < 2 or n > 10 then
    raise exception '%: steps must hold 2 to 10 steps, not %', caller, n using errcode = '22023';
  end if;
  if from_day is null or to_day is null then
    raise exception '%: from_day and to_day must not be null', caller using errcode = '22023';
  end if;
  if from_day > to_day then
    raise exception '%: from_day (%) is after to_day (%)', caller, from_day, to_day using errcode = '22023';
  end if;
  if to_day - from_day > 365 then
    raise exception '%: from_day to to_day spans % days; ask for at most 366', caller, to_day - from_day + 1
      using errcode = '22023';
  end if;
  if conversion_window is null or conversion_window <= interval '0' or conversion_window > interval '365 days' then
    raise exception '%: conversion_window must be more than 0 and at most 365 days, not %', caller,
      coalesce(conversion_window::text, 'null') using errcode = '22023';
  end if;
  if breakdown is not null and char_length(breakdown) not between 1 and 200 then
    raise exception '%: breakdown must be a property name of 1 to 200 characters', caller using errcode = '22023';
  end if;

  for k in 1 .. n loop
    mask_sql := mask_sql || format(' | (case when %s then %s else 0 end)', private.funnel_step_sql(steps, k, caller), 1 << (k - 1));
  end loop;
  types := array(select distinct s ->> 'event' from jsonb_array_elements(steps) s where s ->> 'event' <> '$anonymous');
  anonymous_step := exists (select 1 from jsonb_array_elements(steps) s where s ->> 'event' = '$anonymous');
  subscription_step := types && array['subscription_trial_started', 'subscription_paid'];
  lo := from_day::timestamp at time zone 'UTC';
  hi_enter := (to_day + 1)::timestamp at time zone 'UTC';
  hi := hi_enter + conversion_window;

  -- Chains of next instants, one window pass each, all over the same order (sorted once).
  -- f<j>_<k>: from a row's instant, the next instant of step j, then from there the next of
  -- step j + 1, ... up to step k (null when the chain breaks). Pass 1 gives f<k>_<k> (the
  -- next instant of step k), pass p the chains of p steps: the next instant of every step
  -- only grows with the instant it starts from, so "f<j+1>_<k> at the next instant of step
  -- j" is the least f<j+1>_<k> over the later rows of step j, a min over the same frame.
  -- The attempt's step k is f2_<k> of its entering row (pass k - 1).
  for p in 1 .. n - 1 loop
    cols := '';
    for j in 2 .. n - p + 1 loop
      cols := cols || format(', min(case when r.mask & %s <> 0 then %s end) over w as f%s_%s',
                             1 << (j - 1), case when p = 1 then 'r.ts' else format('r.f%s_%s', j + 1, j + p - 1) end,
                             j, j + p - 1);
    end loop;
    if p = 1 then
      passes := format('select r.uid, r.anon, r.ts, r.mask, case when r.mask & 1 <> 0 then r.bd end as bd %s
                          from raw r
                         where r.mask & ~1 <> 0 or (r.mask = 1 and r.ts < $2)
                        window w as (partition by r.uid, r.anon order by r.ts desc
                                     range between unbounded preceding and interval ''1 microsecond'' preceding)', cols);
    else
      passes := format('select r.* %s from (%s) r
                        window w as (partition by r.uid, r.anon order by r.ts desc
                                     range between unbounded preceding and interval ''1 microsecond'' preceding)',
                       cols, passes);
    end if;
  end loop;
  -- Beyond the window, the chain (which only grows) is cut there.
  for k in 2 .. n loop
    time_cols := time_cols || format(', case when x.f2_%1$s <= x.ts + $4 then x.f2_%1$s end', k);
  end loop;
  sql := format($q$
    with raw as (
      -- A person is the user (uid), else the anonymous id never linked (anon): sorted as a
      -- uuid and a short text, made text once per person at the end.
      select e.uid, e.anon, e.ts, (0 %1$s) as mask, %2$s as bd
        from (select coalesce(ev.user_id, l.user_id) as uid,
                     case when ev.user_id is null and l.user_id is null then ev.anonymous_id end collate "C" as anon,
                     ev.event_type, ev.payload, ev."timestamp" as ts,
                     (ev.user_id is null) as anonymous_event
                from public.events ev
                left join analytics.person_links l on ev.user_id is null and l.anonymous_id = ev.anonymous_id
               where ev."timestamp" >= $1 and ev."timestamp" < $3
                 and (ev.event_type = any($5) or ($6 and ev.user_id is null))
              union all
              select se.user_id, null::text collate "C", se.event_type, se.payload, se."timestamp", false
                from private.subscription_events se
               where $7 and se."timestamp" >= $1 and se."timestamp" < $3 and se.event_type = any($5)
              offset 0) as e
    ),
    attempts as (
      -- The frame ends 1 microsecond (timestamptz's resolution) before the row in descending
      -- time: the person's events strictly later. Rows at one instant share their frame.
      select x.uid, x.anon, x.bd, array[%3$s] as times
        from (%4$s) x
       where x.mask & 1 <> 0 and x.ts >= $1 and x.ts < $2
    )
    select coalesce(a.uid::text, a.anon), a.uid is not null, a.bd, a.level, a.times
      from (select distinct on (a.uid, a.anon) a.*
              from (select a.*, coalesce(array_position(a.times, null) - 1, %5$s) as level from attempts a) a
             order by a.uid, a.anon, a.level desc, a.times[1], a.bd nulls last) a
  $q$,
    mask_sql,
    case when breakdown is null then 'null::text' else format('e.payload ->> %L', breakdown) end,
    time_cols,
    passes,
    n
  );
  return query execute sql using lo, hi_enter, hi, conversion_window, types, anonymous_step, subscription_step;
end
$$;
