-- =======================================================================================
-- Funnels: who goes through ordered steps, and who drops off where
-- =======================================================================================
-- A funnel is 2 to 10 steps, each {"event": "<event_type>", "filters": [...]}, read over a
-- range of UTC days with a conversion window. It counts persons (analytics.person_events:
-- the user, else the anonymous id, anonymous ids joined to the user they were first linked
-- to), the way PostHog's ordered funnel does:
--
-- * A person ENTERS at each event of step 1 whose timestamp falls in [from_day, to_day]
--   (UTC days). Each entering event starts an attempt.
-- * An attempt reaches step k+1 with the EARLIEST event of step k+1 strictly AFTER the
--   event that reached step k, and no later than the entering event + conversion_window
--   (inclusive). Later steps may fall after to_day, inside the window.
-- * Strictly after: events of one person at the same instant are one moment, and one moment
--   counts as at most one step of an attempt. So a repeated step (page_view -> page_view)
--   needs two events at different instants, and a step whose event carries the same
--   timestamp as the previous step's does not count.
-- * A person's attempt that gets furthest counts; among those, the earliest entering event.
--   A person counts once per step at most; times between steps are that attempt's.
-- * Breakdown: by a property of the counted attempt's entering event ('(none)' when absent;
--   several step-1 events at the same instant: the least value). The top breakdown_top
--   values by persons at step 1 are kept (ties by value), the rest summed as '(other)'.
--
-- Besides the events, two event types come from public.subscriptions
-- (private.subscription_events): subscription_trial_started (started_at of a subscription
-- with a trial) and subscription_paid (private.paid_from(started_at, trial_ends_at) of a
-- subscription that reached it without being canceled first; signed-in users other than
-- superusers see none, not even their own). The step event '$anonymous'
-- matches any event sent without a user id (a visit before signing in).
--
-- Speed: one pass over the events of the step types in [from_day, to_day + 1 + window)
-- (the events_timestamp index), one window pass per person (sorted once, person ids in the
-- "C" collation) giving each event the next strictly later instant of every step, then one
-- hash join per step beyond the second and one sort to keep each person's best attempt.
-- No per-row function of the caller runs inside RLS's reach: the range and type quals
-- are leakproof, the filters run on a fenced subquery (offset 0).

-- ---------------------------------------------------------------------------------------
-- Subscription-derived events
-- ---------------------------------------------------------------------------------------
create view private.subscription_events
with (security_invoker = true)
as
select s.user_id, 'subscription_trial_started'::text as event_type, s.started_at as "timestamp",
       jsonb_build_object('plan', s.plan, 'status', s.status, 'billing_interval', s.billing_interval,
                          'currency', s.currency, 'amount_cents', s.amount_cents) as payload
  from public.subscriptions s
 where s.trial_ends_at is not null and s.trial_ends_at > s.started_at
   and (current_user <> 'authenticated' or (select private.is_superuser()))
union all
select s.user_id, 'subscription_paid'::text, private.paid_from(s.started_at, s.trial_ends_at),
       jsonb_build_object('plan', s.plan, 'status', s.status, 'billing_interval', s.billing_interval,
                          'currency', s.currency, 'amount_cents', s.amount_cents)
  from public.subscriptions s
 where s.status <> 'trialing'
   and private.paid_from(s.started_at, s.trial_ends_at) <= now()
   and (s.canceled_at is null or s.canceled_at > private.paid_from(s.started_at, s.trial_ends_at))
   and (current_user <> 'authenticated' or (select private.is_superuser()));
comment on view private.subscription_events is
  'Events made from public.subscriptions for funnels: subscription_trial_started (at started_at, subscriptions with a trial) and subscription_paid (at private.paid_from, subscriptions that started paying and were not canceled before). Read as the caller.';
revoke all on table private.subscription_events from public, anon, authenticated, service_role, analyst;
grant select on table private.subscription_events to authenticated, service_role, analyst;

-- ---------------------------------------------------------------------------------------
-- Checking a definition and turning a step's filters into SQL
-- ---------------------------------------------------------------------------------------
create function private.funnel_step_sql(steps jsonb, k integer, caller text)
returns text
language plpgsql
immutable
set search_path = ''
as $$
declare
  step jsonb := steps -> (k - 1);
  event text;
  filters jsonb;
  f jsonb;
  i integer := 0;
  prop text;
  op text;
  val jsonb;
  p text;
  cond text;
  parts text[] := array[]::text[];
  field text := format('steps[%s]', k);
begin
  if jsonb_typeof(step) is distinct from 'object' then
    raise exception '%: % must be an object {"event": ..., "filters": [...]}', caller, field using errcode = '22023';
  end if;
  event := step ->> 'event';
  if jsonb_typeof(step -> 'event') is distinct from 'string' or char_length(event) not between 1 and 200 then
    raise exception '%: %.event must be an event type of 1 to 200 characters', caller, field using errcode = '22023';
  end if;
  if event = '$anonymous' then
    parts := parts || 'e.anonymous_event'::text;
  else
    parts := parts || format('e.event_type = %L', event);
  end if;
  filters := coalesce(step -> 'filters', '[]'::jsonb);
  if jsonb_typeof(filters) <> 'array' or jsonb_array_length(filters) > 20 then
    raise exception '%: %.filters must be an array of at most 20 filters', caller, field using errcode = '22023';
  end if;
  for f in select x from jsonb_array_elements(filters) as x loop
    i := i + 1;
    field := format('steps[%s].filters[%s]', k, i);
    prop := f ->> 'property';
    op := f ->> 'op';
    val := f -> 'value';
    if jsonb_typeof(f -> 'property') is distinct from 'string' or char_length(prop) not between 1 and 200 then
      raise exception '%: %.property must be a property name of 1 to 200 characters', caller, field using errcode = '22023';
    end if;
    p := format('(e.payload ->> %L)', prop);
    if op = 'eq' or op = 'neq' or op = 'contains' then
      if jsonb_typeof(val) not in ('string', 'number', 'boolean') or val is null then
        raise exception '%: %.value must be a string, number or boolean for op %', caller, field, op using errcode = '22023';
      end if;
      cond := case op
        when 'eq' then format('%s = %L', p, val #>> '{}')
        when 'neq' then format('%s is distinct from %L', p, val #>> '{}')
        else format('strpos(lower(%s), %L) > 0', p, lower(val #>> '{}')) end;
    elsif op = 'in' then
      if jsonb_typeof(val) is distinct from 'array' or jsonb_array_length(val) not between 1 and 100
         or exists (select 1 from jsonb_array_elements(val) v where jsonb_typeof(v) not in ('string', 'number', 'boolean')) then
        raise exception '%: %.value must be an array of 1 to 100 strings, numbers or booleans for op in', caller, field
          using errcode = '22023';
      end if;
      cond := format('%s = any(%L::text[])', p, array(select v #>> '{}' from jsonb_array_elements(val) v));
    elsif op = 'gt' or op = 'lt' then
      if jsonb_typeof(val) is distinct from 'number' then
        raise exception '%: %.value must be a number for op %', caller, field, op using errcode = '22023';
      end if;
      cond := format('(case when jsonb_typeof(e.payload -> %L) = ''number'' then (e.payload -> %L)::numeric end) %s %s',
                     prop, prop, case op when 'gt' then '>' else '<' end, (val #>> '{}')::numeric);
    elsif op = 'is_set' then
      cond := format('e.payload ? %L', prop);
    elsif op = 'is_not_set' then
      cond := format('not (e.payload ? %L)', prop);
    else
      raise exception '%: %.op must be one of eq, neq, contains, is_set, is_not_set, in, gt, lt, not %',
        caller, field, coalesce(quote_literal(op), 'missing') using errcode = '22023';
    end if;
    parts := parts || cond;
  end loop;
  return '(' || array_to_string(parts, ' and ') || ')';
end
$$;
comment on function private.funnel_step_sql(jsonb, integer, text) is
  'Checks step k (1-based) of a funnel definition and returns its match as SQL over an event aliased e (values quoted with %L). Raises 22023 naming steps[k]... for a bad step.';

-- ---------------------------------------------------------------------------------------
-- Each person's counted attempt
-- ---------------------------------------------------------------------------------------
create function private.funnel_attempts(
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
  next_cols text := '';
  joins text := '';
  time_cols text;
  t_prev text;
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

  -- n2 .. nn: the next instant (strictly later) at which the person did step k.
  for k in 2 .. n loop
    next_cols := next_cols || format(', min(case when r.mask & %s <> 0 then r.ts end) over w as n%s', 1 << (k - 1), k);
  end loop;
  -- t1 is the entering instant, t2 the entering moment's n2 if inside the window, and
  -- t(k) the n(k) of the moment at t(k-1), found by a join per step beyond the second.
  t_prev := 'case when x.n2 <= x.ts + $4 then x.n2 end';
  time_cols := 'x.ts, ' || t_prev;
  for k in 3 .. n loop
    joins := joins || format(
      ' left join nexts j%1$s on j%1$s.person_id = x.person_id and j%1$s.ts = %2$s and j%1$s.mask & %3$s <> 0',
      k, t_prev, 1 << (k - 2));
    t_prev := format('case when j%1$s.n%1$s <= x.ts + $4 then j%1$s.n%1$s end', k);
    time_cols := time_cols || ', ' || t_prev;
  end loop;
  sql := format($q$
    with raw as (
      select e.person_id, e.is_user, e.ts, (0 %1$s) as mask, %2$s as bd
        from (select coalesce(ev.user_id::text, l.user_id::text, ev.anonymous_id) collate "C" as person_id,
                     (ev.user_id is not null or l.user_id is not null) as is_user,
                     ev.event_type, ev.payload, ev."timestamp" as ts,
                     (ev.user_id is null) as anonymous_event
                from public.events ev
                left join analytics.person_links l on ev.user_id is null and l.anonymous_id = ev.anonymous_id
               where ev."timestamp" >= $1 and ev."timestamp" < $3
                 and (ev.event_type = any($5) or ($6 and ev.user_id is null))
              union all
              select se.user_id::text collate "C", true, se.event_type, se.payload, se."timestamp", false
                from private.subscription_events se
               where $7 and se."timestamp" >= $1 and se."timestamp" < $3 and se.event_type = any($5)
              offset 0) as e
    ),
    nexts as materialized (
      -- The frame ends 1 microsecond (timestamptz's resolution) before the row in descending
      -- time: the person's events strictly later. Rows at one instant share their frame.
      select r.person_id, r.is_user, r.ts, r.mask, case when r.mask & 1 <> 0 then r.bd end as bd %3$s
        from raw r
       where r.mask <> 0
      window w as (partition by r.person_id order by r.ts desc
                   range between unbounded preceding and interval '1 microsecond' preceding)
    ),
    attempts as (
      select x.person_id, x.is_user, x.bd, array[%4$s] as times
        from nexts x %5$s
       where x.mask & 1 <> 0 and x.ts >= $1 and x.ts < $2
    )
    select distinct on (a.person_id) a.person_id, a.is_user, a.bd, a.level, a.times
      from (select a.*, coalesce(array_position(a.times, null) - 1, %6$s) as level from attempts a) a
     order by a.person_id, a.level desc, a.times[1], a.bd nulls last
  $q$,
    mask_sql,
    case when breakdown is null then 'null::text' else format('e.payload ->> %L', breakdown) end,
    next_cols,
    time_cols,
    joins,
    n
  );
  return query execute sql using lo, hi_enter, hi, conversion_window, types, anonymous_step, subscription_step;
end
$$;
comment on function private.funnel_attempts(jsonb, date, date, interval, text, text) is
  'The counted attempt of every person who entered a funnel (see analytics.funnel): how many steps it reached (level), the instant of each step, and the breakdown value of its entering event. Runs as the caller, so RLS decides.';
revoke all on function private.funnel_step_sql(jsonb, integer, text) from public, anon, authenticated, service_role, analyst;
grant execute on function private.funnel_step_sql(jsonb, integer, text) to authenticated, service_role, analyst;
revoke all on function private.funnel_attempts(jsonb, date, date, interval, text, text)
  from public, anon, authenticated, service_role, analyst;
grant execute on function private.funnel_attempts(jsonb, date, date, interval, text, text)
  to authenticated, service_role, analyst;

-- ---------------------------------------------------------------------------------------
-- analytics.funnel: persons per step, conversion, time between steps
-- ---------------------------------------------------------------------------------------
create function analytics.funnel(
  steps jsonb,
  from_day date,
  to_day date,
  conversion_window interval default interval '14 days',
  breakdown text default null,
  breakdown_top integer default 5
)
returns table (
  breakdown_value text,
  breakdown_rank integer,
  step integer,
  event_type text,
  persons bigint,
  conversion_from_previous numeric,
  conversion_from_first numeric,
  median_seconds numeric,
  p90_seconds numeric
)
language plpgsql
stable
set search_path = ''
set jit = off
as $$
#variable_conflict use_column
declare
  n integer;
begin
  if breakdown_top is null or breakdown_top < 1 or breakdown_top > 50 then
    raise exception 'analytics.funnel: breakdown_top must be between 1 and 50, not %', coalesce(breakdown_top::text, 'null')
      using errcode = '22023';
  end if;
  n := case when jsonb_typeof(steps) = 'array' then jsonb_array_length(steps) end;
  return query
  with best as materialized (
    select * from private.funnel_attempts(steps, from_day, to_day, conversion_window, breakdown, 'analytics.funnel')
  ),
  by_value as (
    select coalesce(b.breakdown_value, '(none)') as v, count(*) as c
      from best b where breakdown is not null group by 1
  ),
  top_values as (
    select bv.v, (row_number() over (order by bv.c desc, bv.v))::integer as rk
      from by_value bv order by bv.c desc, bv.v limit breakdown_top
  ),
  labelled as (
    select null::text as v, 0 as rk, b.level, b.times from best b
    union all
    select coalesce(t.v, '(other)'), coalesce(t.rk, breakdown_top + 1), b.level, b.times
      from best b left join top_values t on t.v = coalesce(b.breakdown_value, '(none)')
     where breakdown is not null
  ),
  groups as (
    select null::text as v, 0 as rk
    union
    select l.v, l.rk from labelled l where l.rk > 0
  ),
  reached as (
    -- Everyone counted reached step 1; times only from step 2 on (fewer persons to sort).
    select l.rk, 1 as k, count(*) as persons, null::float8 as p50, null::float8 as p90
      from labelled l
     group by l.rk
    union all
    select l.rk, s.k, count(*),
           percentile_cont(0.5) within group (order by extract(epoch from l.times[s.k] - l.times[s.k - 1])::float8),
           percentile_cont(0.9) within group (order by extract(epoch from l.times[s.k] - l.times[s.k - 1])::float8)
      from labelled l cross join lateral generate_series(2, l.level) as s (k)
     group by l.rk, s.k
  ),
  grid as (
    select g.v, g.rk, s.k, coalesce(r.persons, 0) as persons, r.p50, r.p90
      from groups g
     cross join generate_series(1, n) as s (k)
      left join reached r on r.rk = g.rk and r.k = s.k
  )
  select g.v, g.rk, g.k, steps -> (g.k - 1) ->> 'event', g.persons,
         round(g.persons::numeric / nullif(lag(g.persons, 1, g.persons) over (partition by g.rk order by g.k), 0), 4),
         round(g.persons::numeric / nullif(first_value(g.persons) over (partition by g.rk order by g.k), 0), 4),
         round(g.p50::numeric, 3), round(g.p90::numeric, 3)
    from grid g
   order by g.rk, g.k;
end
$$;
comment on function analytics.funnel(jsonb, date, date, interval, text, integer) is
  'An ordered funnel over persons (analytics.person_events). steps: a JSON array of 2 to 10 {"event": "<event_type>", "filters": [{"property": "plan", "op": "eq|neq|contains|is_set|is_not_set|in|gt|lt", "value": ...}]}; besides event types, subscription_trial_started and subscription_paid (from public.subscriptions) and $anonymous (any event sent without a user id). A person enters at a step-1 event in [from_day, to_day] (UTC days); each later step is the earliest matching event strictly after the previous step''s and within conversion_window of the entering event; the attempt reaching furthest counts (ties: the earliest). One row per step: persons who reached it, conversion from the previous and from the first step (fractions), median and p90 seconds from the previous step. breakdown_rank 0 (breakdown_value null) is everyone; with breakdown (a property of the entering event), ranks 1..breakdown_top are the values with the most persons at step 1 (''(none)'' when unset) and breakdown_top + 1 is ''(other)''. Bad arguments raise 22023 naming the argument. As the caller: RLS decides.';

-- ---------------------------------------------------------------------------------------
-- analytics.funnel_dropoffs: who reached step - 1 but not step
-- ---------------------------------------------------------------------------------------
create function analytics.funnel_dropoffs(
  steps jsonb,
  from_day date,
  to_day date,
  conversion_window interval default interval '14 days',
  dropped_at integer default 2,
  max_persons integer default 100
)
returns table (person_id text, user_id uuid, anonymous_id text, entered_at timestamptz, last_step_at timestamptz)
language plpgsql
stable
set search_path = ''
set jit = off
as $$
#variable_conflict use_column
begin
  if jsonb_typeof(steps) = 'array' and (dropped_at is null or dropped_at < 2 or dropped_at > jsonb_array_length(steps)) then
    raise exception 'analytics.funnel_dropoffs: dropped_at must be a step from 2 to %, not %', jsonb_array_length(steps),
      coalesce(dropped_at::text, 'null') using errcode = '22023';
  end if;
  if max_persons is null or max_persons < 1 or max_persons > 10000 then
    raise exception 'analytics.funnel_dropoffs: max_persons must be between 1 and 10000, not %', coalesce(max_persons::text, 'null')
      using errcode = '22023';
  end if;
  return query
  select a.person_id,
         case when a.is_user then a.person_id::uuid end,
         case when not a.is_user then a.person_id end,
         a.times[1], a.times[a.level]
    from private.funnel_attempts(steps, from_day, to_day, conversion_window, null, 'analytics.funnel_dropoffs') a
   where a.level = dropped_at - 1
   order by a.times[1] desc, a.person_id
   limit max_persons;
end
$$;
comment on function analytics.funnel_dropoffs(jsonb, date, date, interval, integer, integer) is
  'The persons of analytics.funnel(steps, from_day, to_day, conversion_window) whose counted attempt reached step dropped_at - 1 but not step dropped_at (2 to the number of steps), most recent entries first, at most max_persons: person_id, user_id (a signed-in person) or anonymous_id (a visitor never linked to a user), when they entered and when they did their last step.';

-- ---------------------------------------------------------------------------------------
-- Ready definitions
-- ---------------------------------------------------------------------------------------
create function analytics.named_funnels()
returns table (name text, title text, description text, steps jsonb, conversion_window interval)
language sql
immutable
set search_path = ''
as $$
  values
    ('lead-to-customer', 'Lead to customer',
     'Visitors who browsed before signing in, signed up, then started paying (subscriptions).',
     '[{"event": "$anonymous"}, {"event": "user_signup"}, {"event": "subscription_paid"}]'::jsonb,
     interval '30 days'),
    ('trial-to-paid', 'Trial to paid',
     'Subscriptions that started a trial, then started paying.',
     '[{"event": "subscription_trial_started"}, {"event": "subscription_paid"}]'::jsonb,
     interval '30 days')
$$;
comment on function analytics.named_funnels() is
  'Ready funnel definitions to pass to analytics.funnel: lead-to-customer ($anonymous -> user_signup -> subscription_paid) and trial-to-paid (subscription_trial_started -> subscription_paid), each with its conversion window.';

revoke all on function analytics.funnel(jsonb, date, date, interval, text, integer) from public, anon, authenticated, service_role;
revoke all on function analytics.funnel_dropoffs(jsonb, date, date, interval, integer, integer)
  from public, anon, authenticated, service_role;
revoke all on function analytics.named_funnels() from public, anon, authenticated, service_role;
grant execute on function analytics.funnel(jsonb, date, date, interval, text, integer) to authenticated, service_role, analyst;
grant execute on function analytics.funnel_dropoffs(jsonb, date, date, interval, integer, integer)
  to authenticated, service_role, analyst;
grant execute on function analytics.named_funnels() to authenticated, service_role, analyst;
