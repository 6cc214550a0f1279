-- =======================================================================================
-- beacon.maintain_raw_events(): the ids table read once when few ids are forgotten
-- =======================================================================================
-- The nightly pruning of private.event_ids deleted batches of 50 000 ids received before
-- the idempotency horizon until a batch found none. private.event_ids has no index on
-- received_at (its only index is the primary key on id: each id costs bytes per event), so
-- every batch is a sequential scan, and the last one, finding nothing, read the whole
-- table again: at the scale run's 3.4 M ids kept, two scans of 300 MB for 921 ids, most of
-- the 1.1 s `deno task bench:scale` measured for dropping a month. Now the loop stops after
-- a batch that is not full: nothing older is left then (ids received meanwhile are newer
-- than the horizon). Same function otherwise; same signature and comment.

create or replace function beacon.maintain_raw_events()
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
  -- Read once: in the statement below it would be called (and planned) once per id scanned.
  forget_before timestamptz := now() - make_interval(days => private.event_id_horizon_days());
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
                                where y.received_at < forget_before
                                limit 50000));
    get diagnostics n = row_count;
    pruned := pruned + n;
    -- A batch not full: no older id is left (the ids received meanwhile are newer).
    exit when n < 50000;
  end loop;

  return jsonb_build_object('partitions_made', made, 'partitions_dropped', to_jsonb(dropped), 'ids_pruned', pruned,
                            'raw_retention_horizon', horizon);
end
$$;
