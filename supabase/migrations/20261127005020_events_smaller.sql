-- =======================================================================================
-- Smaller events: indexes that earn their place, packed append-only indexes, lz4 payloads
-- =======================================================================================
-- Measured by bench/size.ts (1 M bench events, today's schema loaded alongside):
--   * events_timestamp_idx ("timestamp", id) -> ("timestamp"): the id made every entry 16
--     bytes wider for one use, the explorer's tie-break between events of the same instant,
--     which an incremental sort on the few rows sharing a timestamp gives as well (same
--     order, same keyset pages). Rows of one request without a timestamp share one, and
--     deduplicate in the index.
--   * events_delivery_order_idx (txid, seq) -> (txid): the rows of one transaction share
--     their txid, so the index deduplicates to a few bytes per row; (txid, seq) order is
--     still read from it (index on txid, then seq sorted within each transaction).
--     Packed full (fillfactor 100): txids only grow.
--   * events_signups_idx stays (partial: only signups).
--   * payloads compressed with lz4 where the server has it (PostgreSQL 15 built with lz4,
--     as Debian's and Supabase's are; PGlite is not: it keeps pglz). Only values that TOAST
--     compresses (rows over ~2 kB) are affected; small payloads are stored as they are.
-- Column order is kept: reordering for alignment would save under 4 bytes a row on
-- average and change the order of `select *`, which apps see.

drop index public.events_timestamp_idx;
create index events_timestamp_idx on public.events ("timestamp");

drop index public.events_delivery_order_idx;
create index events_delivery_order_idx on public.events (txid) with (fillfactor = 100);

do $$
declare
  t regclass;
begin
  -- On the parent (new partitions copy it) and on every existing partition (not recursed).
  for t in select relid from pg_partition_tree('public.events') loop
    execute format('alter table %s alter column payload set compression lz4', t);
  end loop;
exception when feature_not_supported or invalid_parameter_value then
  raise notice 'lz4 is not available here (%): payloads keep the default compression', sqlerrm;
end
$$;
