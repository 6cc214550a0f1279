-- =======================================================================================
-- Raw-event retention and the nightly maintenance of public.events' partitions
-- =======================================================================================
-- beacon.settings key raw_retention_days (Beacon writes BEACON_RAW_RETENTION_DAYS there at
-- start; unset: raw events are kept for ever). Every night beacon.maintain_raw_events():
--   1. makes the monthly partitions through two months ahead;
--   2. drops, whole, every monthly partition entirely older than the retention whose days
--      the nightly aggregation has closed (rollups, persons and revenue stay: they live in
--      analytics.* and public.subscriptions, never in the partitions);
--   3. forgets the ids (private.event_ids) received before the idempotency horizon.
-- An event older than the retention is refused: by POST /api/v1/events with a reason per
-- event, and by the table itself (23514, constraint events_timestamp_retention) for inserts
-- made directly (supabase-js).

create function private.raw_retention_horizon()
returns timestamptz
language sql
stable
security definer
set search_path = ''
as $$
  select (((now() at time zone 'UTC')::date - d)::timestamp at time zone 'UTC')
    from (select private.raw_event_setting('raw_retention_days') as d) as s
   where s.d is not null
$$;
comment on function private.raw_retention_horizon() is
  'The instant before which raw events are no longer kept (UTC midnight raw_retention_days days ago), null when raw events are kept for ever.';
revoke all on function private.raw_retention_horizon() from public, anon, authenticated, service_role, analyst;
grant execute on function private.raw_retention_horizon() to service_role;

-- The id trigger also refuses events older than the retention.
create or replace function private.record_event_ids()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  horizon timestamptz := private.raw_retention_horizon();
  too_old timestamptz;
begin
  if horizon is not null then
    select min(n."timestamp") into too_old from new_rows n where n."timestamp" < horizon;
    if too_old is not null then
      raise exception 'new row for relation "events" violates the raw-event retention: timestamp % is before %, and raw events older than % days are no longer kept',
        too_old, horizon, private.raw_event_setting('raw_retention_days')
        using errcode = '23514', constraint = 'events_timestamp_retention', table = 'events', schema = 'public';
    end if;
  end if;
  insert into private.event_ids (id, received_at)
  select n.id, n.received_at from new_rows n;
  return null;
end
$$;
comment on function private.record_event_ids() is
  'Trigger on public.events: refuses events older than the raw retention (23514, constraint events_timestamp_retention) and records the new events'' ids; a duplicate id fails the insert with 23505 (constraint events_pkey).';

-- ---------------------------------------------------------------------------------------
-- The nightly maintenance
-- ---------------------------------------------------------------------------------------
create function beacon.maintain_raw_events()
returns jsonb
language plpgsql
security definer
set search_path = ''
set lock_timeout = '10s'
as $$
declare
  today date := (now() at time zone 'UTC')::date;
  horizon timestamptz := private.raw_retention_horizon();
  closed_until timestamptz;
  made integer;
  dropped text[] := '{}';
  pruned bigint := 0;
  n bigint;
  p record;
begin
  made := private.ensure_event_partitions((today + interval '2 months')::date);

  if horizon is not null then
    -- Only days the nightly aggregation has closed lose their raw events.
    select ((max(a.day) + 1)::timestamp at time zone 'UTC') into closed_until from analytics.aggregated_days a;
    for p in
      select c.relname, pg_get_expr(c.relpartbound, c.oid) as bound
        from pg_inherits i
        join pg_class c on c.oid = i.inhrelid
       where i.inhparent = 'public.events'::regclass and c.relname <> 'events_default'
       order by c.relname
    loop
      -- events_YYYY_MM holds [month, month + 1).
      if ((to_date(substr(p.relname, 8), 'YYYY_MM') + interval '1 month')::timestamp at time zone 'UTC') <= least(horizon, closed_until) then
        begin
          execute format('drop table event_partitions.%I', p.relname);
          dropped := dropped || p.relname::text;
        exception when lock_not_available then
          raise notice 'beacon.maintain_raw_events: % is in use, dropped next time', p.relname;
        end;
      end if;
    end loop;
  end if;

  -- Ids received before the idempotency horizon, in bounded batches.
  loop
    delete from private.event_ids x
     where x.ctid = any (array(select y.ctid from private.event_ids y
                                where y.received_at < now() - make_interval(days => private.event_id_horizon_days())
                                limit 50000));
    get diagnostics n = row_count;
    pruned := pruned + n;
    exit when n = 0;
  end loop;

  return jsonb_build_object('partitions_made', made, 'partitions_dropped', to_jsonb(dropped), 'ids_pruned', pruned,
                            'raw_retention_horizon', horizon);
end
$$;
comment on function beacon.maintain_raw_events() is
  'Nightly: makes public.events'' monthly partitions through two months ahead, drops the partitions entirely older than the raw retention (beacon.settings raw_retention_days) whose days are aggregated, and forgets event ids received before the idempotency horizon. Returns what it did.';
revoke all on function beacon.maintain_raw_events() from public, anon, authenticated, service_role, analyst;

do $cron$
begin
  if exists (select 1 from pg_extension where extname = 'pg_cron') then
    perform cron.schedule('beacon_raw_event_maintenance', '30 2 * * *', 'select beacon.maintain_raw_events()');
  end if;
end
$cron$;
