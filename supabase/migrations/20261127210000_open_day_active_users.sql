-- =======================================================================================
-- A day not closed's active users: the newer events' users read first, alone
-- =======================================================================================
-- A series of active users by day reads each day not closed through private.open_day_value,
-- which asks private.open_day_metrics: with a snapshot (20261127180000), the closed hours'
-- count, the snapshot's new users, and in one statement the newer events' users less those
-- already among the snapshot's or the closed hours' users. Measured on the kept 10 M
-- database at 20:00 UTC simulated, 0.47 ms for the day with an open hour and 0.57 ms for
-- today, empty: that statement (events, and two tables under RLS) is planned on every call,
-- newer events or not.
--
-- Now private.open_day_value reads the newer events' users alone first (the txid index, a
-- minute of events); none (today, or a quiet minute): the answer is the snapshot's; some:
-- only they are looked up. Same result (same sets of users). The 7- and 30-day active users
-- go straight to private.open_window_users (two calls less each). Any other metric, and a
-- day without a snapshot that holds, are read as before (20261127180000's function, under a
-- new name: private.open_day_value_from_parts).

alter function private.open_day_value(date, text, text) rename to open_day_value_from_parts;
comment on function private.open_day_value_from_parts(date, text, text) is
  'One metric (only_metric) and dimension (only_dimension, '''' for the total) of a UTC day the nightly job has not closed, as the caller sees it, 0 when there is none: the events total from the closed hours in the hourly rollup, the minute snapshot and a count of the newer events; anything else as private.open_day_metrics computes it. Called by private.open_day_value (migration 20261127210000).';

create function private.open_day_value(target_day date, only_metric text, only_dimension text)
returns numeric
language plpgsql
stable
set search_path = ''
set jit = off
set max_parallel_workers_per_gather = 0
as $$
declare
  lo timestamptz := target_day::timestamp at time zone 'UTC';
  hi timestamptz := (target_day + 1)::timestamp at time zone 'UTC';
  snap_from timestamptz;
  snap_xid xid8;
  snap_new bigint;
  closed_total bigint;
  newer uuid[];
  window_users bigint;
begin
  if only_metric in ('weekly_active_users', 'monthly_active_users') and only_dimension = '' and target_day is not null then
    -- Straight to the bitmaps (what private.open_day_metrics would ask them), null when they
    -- cannot answer.
    window_users := private.open_window_users(
      target_day - case when only_metric = 'weekly_active_users' then 6 else 29 end, target_day);
    if window_users is not null then
      return window_users;
    end if;
  end if;
  if only_metric = 'active_users' and only_dimension = '' and target_day is not null then
    -- The day's snapshot, if it was taken with the day's closed hours as they are (as
    -- private.open_day_metrics checks it).
    select l.from_hour, l.upto_xid, l.new_users into snap_from, snap_xid, snap_new
      from analytics.live_parts l
     where l.day = target_day
       and l.taken_at > now() - interval '5 minutes'
       and (select count(*) from analytics.closed_hours c where c.hour >= lo and c.hour < hi)
           = (extract(epoch from l.from_hour - lo) / 3600)::bigint;
    if snap_from is not null then
      select dt.active_users into closed_total from analytics.hourly_day_totals dt where dt.day = target_day;
      -- Closed hours without their set of users: read as before.
      if closed_total is not null or snap_from = lo then
        newer := array(
          select distinct e.user_id
            from public.events e
           where e.txid >= snap_xid and e."timestamp" >= snap_from and e."timestamp" < hi
             and e.user_id is not null);
        if cardinality(newer) = 0 then
          return coalesce(closed_total, 0) + snap_new;
        end if;
        return coalesce(closed_total, 0) + snap_new
               + (select count(*)
                    from unnest(newer) as n (user_id)
                   where not exists (select 1 from analytics.live_part_users lu
                                      where lu.day = target_day and lu.user_id = n.user_id)
                     and not exists (select 1 from analytics.hourly_day_users du
                                      where du.day = target_day and du.user_id = n.user_id));
      end if;
    end if;
  end if;
  return private.open_day_value_from_parts(target_day, only_metric, only_dimension);
end
$$;
comment on function private.open_day_value(date, text, text) is
  'One metric (only_metric) and dimension (only_dimension, '''' for the total) of a UTC day the nightly job has not closed, as the caller sees it, 0 when there is none: the active users from the minute snapshot plus the users of the newer events not already counted (read alone first); the 7- and 30-day active users from private.open_window_users when it answers; anything else as private.open_day_value_from_parts computes it.';
revoke all on function private.open_day_value(date, text, text) from public, anon, authenticated, service_role, analyst;
-- The read functions run as the caller and call it.
grant execute on function private.open_day_value(date, text, text) to authenticated, service_role, analyst;
