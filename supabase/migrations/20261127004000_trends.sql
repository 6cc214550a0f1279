-- =======================================================================================
-- Trends: any event, any property, up to five series, a formula over them
-- =======================================================================================
-- analytics.trend(definition jsonb) answers a PostHog-style trends question:
--
--   {"series": [{"event": "task_started"},                       -- A: total count
--               {"event": "task_completed", "math": "unique"},   -- B: unique persons
--               {"event": "api_call", "math": "p90", "property": "duration_ms",
--                "filters": [{"property": "status", "op": "eq", "value": 200}]}],
--    "from": "2026-10-01", "to": "2026-10-30",      -- UTC days (default: the last 30 days)
--    "bucket": "day",                               -- hour (ranges up to 7 days), day, week, month
--    "breakdown": "plan", "breakdown_top": 5,       -- one property, its top values + '(other)'
--    "compare": true,                               -- the previous period of the same length
--    "formula": "B / A * 100"}                      -- + - * / ( ) numbers and letters A..E
--
-- Math: total (events), unique (persons, as analytics.person_events names them), sum, avg,
-- median, p90 (percentile_cont) of a numeric property. A property's value is a number when
-- it is a JSON number or a string that reads as one ("12", "-1.5e3"); anything else
-- (missing, null, text, objects, booleans) is ignored by numeric math and by gt/lt filters.
-- Breakdown values are payload ->> property ('(none)' when missing or null); the top
-- breakdown_top values by matching events over all series in the current period are kept
-- (ties by value), the others summed as '(other)'. Division by zero in a formula is null.
--
-- Speed: series counting events without filters read rollups for the closed days
-- (analytics.daily_metrics; with a breakdown by a TRACKED property, analytics.property_days,
-- and for persons analytics.property_actor_days) and the events only for the days not closed
-- yet. Anything else reads the events of the range once (the events_timestamp
-- index), under the caller's statement timeout.

-- ---------------------------------------------------------------------------------------
-- Tracked properties and their nightly rollup
-- ---------------------------------------------------------------------------------------
create table analytics.tracked_properties (
  event_type text not null check (char_length(event_type) between 1 and 200),
  property text not null check (char_length(property) between 1 and 200),
  added_at timestamptz not null default now(),
  primary key (event_type, property)
);
comment on table analytics.tracked_properties is
  'Beacon: properties rolled up per closed UTC day and value (analytics.property_days, analytics.property_actor_days), so trend breakdowns by them answer from the rollup. Superusers and the service role add and remove rows; adding one rolls up the days already closed.';
comment on column analytics.tracked_properties.event_type is 'The event type whose property is tracked.';
comment on column analytics.tracked_properties.property is 'The payload key (top level), as payload ->> property.';
comment on column analytics.tracked_properties.added_at is 'When it was added.';

create table analytics.property_days (
  event_type text not null,
  property text not null,
  day date not null,
  value text,
  events bigint not null
);
comment on table analytics.property_days is
  'Per closed UTC day, tracked (event type, property) and value (null: missing or JSON null): the number of events. Written by the nightly job.';
comment on column analytics.property_days.event_type is 'The event type.';
comment on column analytics.property_days.property is 'The tracked property.';
comment on column analytics.property_days.day is 'The UTC day.';
comment on column analytics.property_days.value is 'payload ->> property; null when missing or JSON null.';
comment on column analytics.property_days.events is 'Events of that type, day and value.';
create index property_days_idx on analytics.property_days (event_type, property, day);

create table analytics.property_actor_days (
  event_type text not null,
  property text not null,
  day date not null,
  value text,
  anonymous boolean not null,
  actor text not null,
  events integer not null
);
comment on table analytics.property_actor_days is
  'Per closed UTC day, tracked (event type, property), value and actor (a user id as text, or the anonymous id of an event without a user): the number of events. Persons come from actors through analytics.person_links when read. Written by the nightly job.';
comment on column analytics.property_actor_days.event_type is 'The event type.';
comment on column analytics.property_actor_days.property is 'The tracked property.';
comment on column analytics.property_actor_days.day is 'The UTC day.';
comment on column analytics.property_actor_days.value is 'payload ->> property; null when missing or JSON null.';
comment on column analytics.property_actor_days.anonymous is 'True when actor is an anonymous id.';
comment on column analytics.property_actor_days.actor is 'The user id (as text) or the anonymous id.';
comment on column analytics.property_actor_days.events is 'Events of that actor, type, day and value.';
create index property_actor_days_idx on analytics.property_actor_days (event_type, property, day);

revoke all on table analytics.tracked_properties from public, anon, authenticated, service_role, analyst;
grant select, insert, delete on table analytics.tracked_properties to authenticated, service_role;
grant select on table analytics.tracked_properties to analyst;
alter table analytics.tracked_properties enable row level security;
create policy "Superusers can read tracked properties"
  on analytics.tracked_properties for select to authenticated
  using ((select private.is_superuser()));
create policy "Superusers can add tracked properties"
  on analytics.tracked_properties for insert to authenticated
  with check ((select private.is_superuser()));
create policy "Superusers can remove tracked properties"
  on analytics.tracked_properties for delete to authenticated
  using ((select private.is_superuser()));
create policy "Analysts can read tracked properties"
  on analytics.tracked_properties for select to analyst
  using (true);

do $$
declare
  t text;
begin
  foreach t in array array['property_days', 'property_actor_days'] loop
    execute format('revoke all on table analytics.%I from public, anon, authenticated, service_role, analyst', t);
    execute format('grant select on table analytics.%I to authenticated, service_role, analyst', t);
    execute format('alter table analytics.%I enable row level security', t);
    execute format('create policy "Superusers can read %s" on analytics.%I for select to authenticated using ((select private.is_superuser()))',
                   replace(t, '_', ' '), t);
    execute format('create policy "Analysts can read %s" on analytics.%I for select to analyst using (true)', replace(t, '_', ' '), t);
  end loop;
end
$$;

-- Rolls up [lo, hi) for the tracked pairs (all, or one), on the days given (null: any).
create function private.rollup_tracked_properties(
  lo timestamptz, hi timestamptz, only_type text, only_property text, on_days date[]
)
returns void
language plpgsql
security definer
set search_path = ''
set jit = off
as $$
begin
  delete from analytics.property_actor_days p
   where p.day >= (lo at time zone 'UTC')::date and p.day < (hi at time zone 'UTC')::date
     and (only_type is null or (p.event_type = only_type and p.property = only_property))
     and (on_days is null or p.day = any(on_days));
  delete from analytics.property_days p
   where p.day >= (lo at time zone 'UTC')::date and p.day < (hi at time zone 'UTC')::date
     and (only_type is null or (p.event_type = only_type and p.property = only_property))
     and (on_days is null or p.day = any(on_days));
  insert into analytics.property_actor_days (event_type, property, day, value, anonymous, actor, events)
  select e.event_type, t.property, (e."timestamp" at time zone 'UTC')::date, e.payload ->> t.property,
         e.user_id is null, coalesce(e.user_id::text, e.anonymous_id), count(*)
    from public.events e
    join analytics.tracked_properties t on t.event_type = e.event_type
   where e."timestamp" >= lo and e."timestamp" < hi
     and (only_type is null or (t.event_type = only_type and t.property = only_property))
     and (on_days is null or (e."timestamp" at time zone 'UTC')::date = any(on_days))
   group by 1, 2, 3, 4, 5, 6;
  insert into analytics.property_days (event_type, property, day, value, events)
  select p.event_type, p.property, p.day, p.value, sum(p.events)
    from analytics.property_actor_days p
   where p.day >= (lo at time zone 'UTC')::date and p.day < (hi at time zone 'UTC')::date
     and (only_type is null or (p.event_type = only_type and p.property = only_property))
     and (on_days is null or p.day = any(on_days))
   group by 1, 2, 3, 4;
end
$$;
comment on function private.rollup_tracked_properties(timestamptz, timestamptz, text, text, date[]) is
  'Rewrites analytics.property_actor_days and analytics.property_days over [lo, hi) for every tracked property (only_type null) or one, on the days on_days (null: every day of the range).';
revoke all on function private.rollup_tracked_properties(timestamptz, timestamptz, text, text, date[])
  from public, anon, authenticated, service_role, analyst;

create function private.close_tracked_properties(day date)
returns void
language sql
security definer
set search_path = ''
as $$
  select private.rollup_tracked_properties(day::timestamp at time zone 'UTC', (day + 1)::timestamp at time zone 'UTC',
                                           null, null, null)
$$;
comment on function private.close_tracked_properties(date) is
  'Rewrites one closed UTC day of the tracked properties'' rollup. Called by private.close_day.';
revoke all on function private.close_tracked_properties(date) from public, anon, authenticated, service_role, analyst;

-- Adding a tracked property rolls up the days already closed; removing one drops its rows.
create function private.tracked_property_changed()
returns trigger
language plpgsql
security definer
set search_path = ''
set jit = off
as $$
declare
  days date[];
begin
  if tg_op = 'INSERT' then
    days := array(select a.day from analytics.aggregated_days a order by a.day);
    if cardinality(days) > 0 then
      perform private.rollup_tracked_properties(days[1]::timestamp at time zone 'UTC',
                                                (days[cardinality(days)] + 1)::timestamp at time zone 'UTC',
                                                new.event_type, new.property, days);
    end if;
    return new;
  end if;
  delete from analytics.property_actor_days p where p.event_type = old.event_type and p.property = old.property;
  delete from analytics.property_days p where p.event_type = old.event_type and p.property = old.property;
  return old;
end
$$;
comment on function private.tracked_property_changed() is
  'Trigger on analytics.tracked_properties: rolls up the closed days of a property added, drops the rows of one removed.';
revoke all on function private.tracked_property_changed() from public, anon, authenticated, service_role, analyst;
create trigger beacon_tracked_property_changed
  after insert or delete on analytics.tracked_properties
  for each row execute function private.tracked_property_changed();

-- private.close_day: as in 20261127003200_person_bits.sql, plus the tracked properties.
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
  -- Links first, so that the day closed now and the days before agree on every person.
  perform private.apply_person_links();
  perform private.close_person_bits(close_day.day);
  perform private.close_tracked_properties(close_day.day);
  insert into analytics.aggregated_days (day, aggregated_at) values (close_day.day, now());

  delete from analytics.daily_metrics dm
   where dm.day = close_day.day and dm.metric not in ('weekly_active_users', 'monthly_active_users');
  insert into analytics.daily_metrics (day, metric, dimension, value)
  select close_day.day, c.metric, c.dimension, c.value
    from private.compute_day(close_day.day, null, false) c;
end
$$;
comment on function private.close_day(date) is
  'Recomputes one closed UTC day''s activity (users, person bitmaps after moving queued links), tracked properties and metrics, except the 7- and 30-day windows (see private.refresh_windows). Called by analytics.aggregate_day and analytics.run_daily_aggregation; takes the advisory lock (hashtext(''beacon.close_day''), the day) so one day is closed once at a time.';
revoke all on function private.close_day(date) from public, anon, authenticated, service_role;

-- ---------------------------------------------------------------------------------------
-- Reading a definition
-- ---------------------------------------------------------------------------------------
create function private.trend_number(v jsonb)
returns numeric
language sql
immutable
as $$
  select case jsonb_typeof(v)
           when 'number' then (v #>> '{}')::numeric
           when 'string' then case when (v #>> '{}') ~ '^[-+]?([0-9]+[.]?[0-9]*|[.][0-9]+)([eE][-+]?[0-9]{1,3})?$'
                                   then (v #>> '{}')::numeric end
         end
$$;
comment on function private.trend_number(jsonb) is
  'A property value as a number: a JSON number, or a string that reads as one ("12", "-1.5e3"); null otherwise.';
revoke all on function private.trend_number(jsonb) from public, anon, authenticated, service_role, analyst;
grant execute on function private.trend_number(jsonb) to authenticated, service_role, analyst;

-- The match of series k (1-based) as SQL over an event aliased e (event_type, payload):
-- its event type and filters, every name and value quoted with %L.
create function private.trend_series_sql(s jsonb, k integer, caller text)
returns text
language plpgsql
immutable
set search_path = ''
as $$
declare
  field text := format('series[%s]', k);
  event text;
  filters jsonb;
  f jsonb;
  i integer := 0;
  prop text;
  op text;
  val jsonb;
  p text;
  cond text;
  parts text[] := array['true']::text[];
begin
  if jsonb_typeof(s -> 'event') not in ('string', 'null') then
    raise exception '%: %.event must be an event type (or null for all events)', caller, field using errcode = '22023';
  end if;
  event := s ->> 'event';
  if event is not null then
    if char_length(event) not between 1 and 200 then
      raise exception '%: %.event must be an event type of 1 to 200 characters', caller, field using errcode = '22023';
    end if;
    parts := parts || format('e.event_type = %L', event);
  end if;
  filters := coalesce(s -> 'filters', '[]'::jsonb);
  if jsonb_typeof(filters) = 'null' then
    filters := '[]'::jsonb;
  end if;
  if jsonb_typeof(filters) <> 'array' or jsonb_array_length(filters) > 20 then
    raise exception '%: %.filters must be an array of at most 20 filters', caller, field using errcode = '22023';
  end if;
  for f in select x from jsonb_array_elements(filters) as x loop
    i := i + 1;
    field := format('series[%s].filters[%s]', k, i);
    if jsonb_typeof(f) is distinct from 'object' then
      raise exception '%: % must be an object {"property", "op", "value"}', caller, field using errcode = '22023';
    end if;
    prop := f ->> 'property';
    op := f ->> 'op';
    val := f -> 'value';
    if jsonb_typeof(f -> 'property') is distinct from 'string' or char_length(prop) not between 1 and 200 then
      raise exception '%: %.property must be a property name of 1 to 200 characters', caller, field using errcode = '22023';
    end if;
    p := format('(e.payload ->> %L)', prop);
    if op in ('eq', 'neq', 'contains') then
      if val is null or jsonb_typeof(val) not in ('string', 'number', 'boolean') then
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
    elsif op in ('gt', 'lt') then
      if jsonb_typeof(val) is distinct from 'number' then
        raise exception '%: %.value must be a number for op %', caller, field, op using errcode = '22023';
      end if;
      cond := format('private.trend_number(e.payload -> %L) %s %s', prop, case op when 'gt' then '>' else '<' end,
                     (val #>> '{}')::numeric);
    elsif op = 'is_set' then
      cond := format('(e.payload -> %L) is not null', prop);
    elsif op = 'is_not_set' then
      cond := format('(e.payload -> %L) is null', prop);
    else
      raise exception '%: %.op must be one of eq, neq, contains, is_set, is_not_set, in, gt, lt, not %',
        caller, field, coalesce(quote_literal(op), 'missing') using errcode = '22023';
    end if;
    parts := parts || cond;
  end loop;
  return '(' || array_to_string(parts, ' and ') || ')';
end
$$;
comment on function private.trend_series_sql(jsonb, integer, text) is
  'Checks series k (1-based) of a trend definition (event, filters) and returns its match as SQL over an event aliased e (names and values quoted with %L). Raises 22023 naming series[k]... for a bad one.';
revoke all on function private.trend_series_sql(jsonb, integer, text) from public, anon, authenticated, service_role, analyst;
grant execute on function private.trend_series_sql(jsonb, integer, text) to authenticated, service_role, analyst;

-- A formula over the series letters as SQL over columns q.a .. q.e: numbers, letters,
-- + - * / and parentheses (a unary minus too), parsed by shunting-yard into reverse Polish
-- notation and rebuilt from it, so nothing of the text reaches SQL but checked tokens.
-- Division is x / nullif(y, 0): by zero, null.
create function private.trend_formula_sql(formula text, series_count integer, caller text)
returns text
language plpgsql
immutable
set search_path = ''
as $$
declare
  toks text[];
  tok text;
  ops text[] := array[]::text[];
  rpn text[] := array[]::text[];
  stack text[] := array[]::text[];
  prev text := 'start';
  top text;
  prec integer;
  a text;
  b text;
  last_letter text := chr(64 + series_count);
begin
  if formula is null or char_length(formula) > 200 then
    raise exception '%: formula must be text of at most 200 characters', caller using errcode = '22023';
  end if;
  toks := array(select m[1] from regexp_matches(formula, '([0-9]+(?:[.][0-9]+)?|[A-Za-z_]+|[^[:space:]])', 'g') as m);
  if cardinality(toks) = 0 then
    raise exception '%: formula is empty', caller using errcode = '22023';
  end if;
  foreach tok in array toks loop
    if tok ~ '^[0-9]' then
      if prev in ('operand', 'close') then
        raise exception '%: formula has a number (%) right after a value; put an operator between', caller, tok using errcode = '22023';
      end if;
      rpn := rpn || tok;
      prev := 'operand';
    elsif tok ~ '^[A-Za-z_]+$' then
      if char_length(tok) <> 1 or upper(tok) < 'A' or upper(tok) > last_letter then
        raise exception '%: formula names %, but the series are A to %', caller, quote_literal(tok), last_letter
          using errcode = '22023';
      end if;
      if prev in ('operand', 'close') then
        raise exception '%: formula has % right after a value; put an operator between', caller, upper(tok) using errcode = '22023';
      end if;
      rpn := rpn || ('$' || lower(tok));
      prev := 'operand';
    elsif tok = '(' then
      if prev in ('operand', 'close') then
        raise exception '%: formula has ( right after a value; put an operator between', caller using errcode = '22023';
      end if;
      ops := ops || tok;
      prev := 'open';
    elsif tok = ')' then
      if prev not in ('operand', 'close') then
        raise exception '%: formula has ) where a value is expected', caller using errcode = '22023';
      end if;
      loop
        if cardinality(ops) = 0 then
          raise exception '%: formula has a ) without its (', caller using errcode = '22023';
        end if;
        top := ops[cardinality(ops)];
        ops := ops[1:cardinality(ops) - 1];
        exit when top = '(';
        rpn := rpn || top;
      end loop;
      prev := 'close';
    elsif tok in ('+', '-', '*', '/') then
      if prev in ('start', 'operator', 'open') then
        if tok = '-' then
          ops := ops || 'u'::text;
          prev := 'operator';
          continue;
        elsif tok = '+' then
          continue;
        end if;
        raise exception '%: formula has % where a value is expected', caller, tok using errcode = '22023';
      end if;
      prec := case when tok in ('+', '-') then 1 else 2 end;
      while cardinality(ops) > 0 loop
        top := ops[cardinality(ops)];
        exit when top = '(' or (case top when '+' then 1 when '-' then 1 when 'u' then 3 else 2 end) < prec;
        rpn := rpn || top;
        ops := ops[1:cardinality(ops) - 1];
      end loop;
      ops := ops || tok;
      prev := 'operator';
    else
      raise exception '%: formula may hold only numbers, the letters A to %, + - * / and parentheses, not %', caller,
        last_letter, quote_literal(tok) using errcode = '22023';
    end if;
  end loop;
  if prev not in ('operand', 'close') then
    raise exception '%: formula ends where a value is expected', caller using errcode = '22023';
  end if;
  while cardinality(ops) > 0 loop
    top := ops[cardinality(ops)];
    ops := ops[1:cardinality(ops) - 1];
    if top = '(' then
      raise exception '%: formula has a ( without its )', caller using errcode = '22023';
    end if;
    rpn := rpn || top;
  end loop;
  foreach tok in array rpn loop
    if tok = 'u' then
      a := stack[cardinality(stack)];
      stack := stack[1:cardinality(stack) - 1] || ('(- ' || a || ')');
    elsif tok in ('+', '-', '*', '/') then
      b := stack[cardinality(stack)];
      a := stack[cardinality(stack) - 1];
      stack := stack[1:cardinality(stack) - 2]
        || case when tok = '/' then format('(%s / nullif(%s, 0))', a, b) else format('(%s %s %s)', a, tok, b) end;
    elsif tok like '$%' then
      stack := stack || ('q.' || substr(tok, 2));
    else
      stack := stack || (tok || '::numeric');
    end if;
  end loop;
  return stack[1];
end
$$;
comment on function private.trend_formula_sql(text, integer, text) is
  'Parses a trend formula (numbers, series letters A.. up to series_count, + - * / parentheses, unary minus) and returns it as SQL over q.a .. q.e with division by zero giving null. Raises 22023 naming formula for a bad one.';
revoke all on function private.trend_formula_sql(text, integer, text) from public, anon, authenticated, service_role, analyst;
grant execute on function private.trend_formula_sql(text, integer, text) to authenticated, service_role, analyst;

-- ---------------------------------------------------------------------------------------
-- analytics.trend
-- ---------------------------------------------------------------------------------------
create function analytics.trend(definition jsonb)
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
  types text[] := array[]::text[];
  all_typed boolean := true;
  need_person boolean := false;
  scan_lo date;
  lateral_rows text[] := array[]::text[];
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
    if ev is null then all_typed := false; else types := types || ev; end if;
    need_person := need_person or m = 'unique';

    kind := 'raw';
    if m in ('total', 'unique') and v_bucket <> 'hour'
       and jsonb_array_length(coalesce(nullif(s -> 'filters', 'null'::jsonb), '[]'::jsonb)) = 0 then
      if v_breakdown is null and m = 'total' then
        kind := 'actor';
      elsif ev is not null and exists (select 1 from analytics.tracked_properties t
                                        where t.event_type = ev and t.property = v_breakdown) then
        kind := 'tracked';
      end if;
    end if;

    if kind = 'raw' then
      scan_lo := first_day;
      lateral_rows := lateral_rows || format('(%s, %s, %s)', k, cond,
        case when m in ('sum', 'avg', 'median', 'p90') then format('private.trend_number(e.payload -> %L)', prop)
             else 'null::numeric' end);
    else
      if cardinality(open_days) > 0 then
        scan_lo := least(coalesce(scan_lo, open_days[1]), open_days[1]);
        lateral_rows := lateral_rows || format('(%s, %s and e.day = any(%L::date[]), null::numeric)', k, cond, open_days);
      end if;
      roll_parts := roll_parts || case
        when kind = 'actor' and m = 'total' then format(
          $q$select %1$s, r.day::timestamp, null::text, null::text, r.value, null::numeric
               from analytics.daily_metrics r
              where r.metric = 'events' and r.dimension = %2$L and r.day between %3$L and %4$L
                and not (r.day = any(%5$L::date[]))$q$, k, coalesce(ev, ''), first_day, v_to, open_days)
        when m = 'total' then format(
          $q$select %1$s, r.day::timestamp, r.value, null::text, r.events::numeric, null::numeric
               from analytics.property_days r
              where r.event_type = %2$L and r.property = %6$L and r.day between %3$L and %4$L
                and not (r.day = any(%5$L::date[]))$q$, k, ev, first_day, v_to, open_days, v_breakdown)
        else format(
          $q$select %1$s, r.day::timestamp, r.value,
                    (case when r.anonymous then coalesce(l.user_id::text, r.actor) else r.actor end) collate "C",
                    r.events::numeric, null::numeric
               from analytics.property_actor_days r
               left join analytics.person_links l on r.anonymous and l.anonymous_id = r.actor
              where r.event_type = %2$L and r.property = %6$L and r.day between %3$L and %4$L
                and not (r.day = any(%5$L::date[]))$q$, k, ev, first_day, v_to, open_days, v_breakdown)
      end;
    end if;

    agg_parts := agg_parts || format('select m.k, m.p, m.t, %s as v, %s as rk, %s as value from m %s where m.k = %s %s group by 1, 2, 3, 4, 5',
      case when v_breakdown is null then 'null::text' else '(coalesce(tv.v, ''(other)''))' end,
      case when v_breakdown is null then '0' else format('coalesce(tv.rk, %s)', v_top + 1) end,
      case m when 'total' then 'sum(m.w)'
             when 'unique' then 'count(distinct m.person_id)::numeric'
             when 'sum' then 'sum(m.num * m.w)'
             when 'avg' then 'sum(m.num * m.w) / sum(m.w)'
             when 'median' then '(percentile_cont(0.5) within group (order by m.num::float8))::numeric'
             else '(percentile_cont(0.9) within group (order by m.num::float8))::numeric' end,
      case when v_breakdown is null then '' else 'left join tv on tv.v = coalesce(m.bv, ''(none)'')' end
        -- A weighted row stands for w events: repeated for the percentiles.
        || case when m in ('median', 'p90') then ' cross join lateral generate_series(1, m.w::integer) as rep (i)' else '' end,
      k,
      case when m in ('sum', 'avg', 'median', 'p90') then 'and m.num is not null' else '' end);
    zero_rows := zero_rows || format('(%s, %L::boolean)', k, m in ('total', 'unique', 'sum'));
  end loop;

  -- Every source as (k, day or instant, breakdown value, person, weight, number).
  sql := 'with src as (';
  if cardinality(lateral_rows) > 0 then
    sql := sql || format(
      $q$select x.k, e.ts, e.bv, e.person_id, 1::numeric as w, x.num
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
    sql := sql || 'select null::integer as k, null::timestamp as ts, null::text as bv, null::text as person_id, null::numeric as w, null::numeric as num where false';
  end if;
  if cardinality(roll_parts) > 0 then
    sql := sql || ' union all ' || array_to_string(roll_parts, ' union all ');
  end if;
  sql := sql || format($q$),
    m as materialized (
      -- One row per series, period, bucket, value, person (unique only) and number
      -- (numeric math only), weighted by how many events it stands for.
      select s.k, case when s.ts >= %1$L then 'current' else 'previous' end as p,
             date_trunc(%2$L, s.ts) as t, s.bv, s.person_id, s.num, sum(s.w) as w
        from src s
       group by 1, 2, 3, 4, 5, 6
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
comment on function analytics.trend(jsonb) is
  'A trends chart as rows. definition: {"series": [1 to 5 of {"event": "<event_type>" or null for all events, "math": "total|unique|sum|avg|median|p90", "property": "<numeric property, for sum..p90>", "filters": [{"property", "op": "eq|neq|contains|is_set|is_not_set|in|gt|lt", "value"}]}], "from", "to": UTC days (default the last 30 days, at most 366), "bucket": "hour|day|week|month" (hour: ranges up to 7 days; weeks start on Monday), "breakdown": "<property>", "breakdown_top": 1..50 (default 5), "compare": true|false, "formula": "B / A * 100"}. One row per series (A..E, and formula), period (current, previous), bucket and breakdown value: bucket_index counts buckets from the period''s start (to align the previous period with the current), breakdown_rank 0 without breakdown, 1..breakdown_top for the top values by matching events in the current period (''(none)'': missing or null) and breakdown_top + 1 for ''(other)''. unique counts persons (analytics.person_events); sum/avg/median/p90 read the property as a number (JSON numbers and numeric strings; anything else ignored). total, unique and sum are 0 for an empty bucket, avg/median/p90 null; a formula''s division by zero is null. Bad definitions raise 22023 naming the field (e.g. series[2].math). As the caller: RLS decides; breakdowns by properties not in analytics.tracked_properties read the events under the caller''s statement timeout.';
revoke all on function analytics.trend(jsonb) from public, anon, authenticated, service_role;
grant execute on function analytics.trend(jsonb) to authenticated, service_role, analyst;
