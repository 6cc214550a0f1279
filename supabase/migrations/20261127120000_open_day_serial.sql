-- =======================================================================================
-- Today's live part without parallel workers
-- =======================================================================================
-- private.open_day_metrics reads the hours of a day not closed yet: the open hour late in
-- the day, at most a few thousand events. For a caller whose reads of public.events are not
-- under row-level security (service_role, the owner), the planner chose a parallel plan for
-- that read when its estimate for the range was large (today before its first hourly run:
-- the whole day), and starting two workers for each call cost far more than the read: at
-- 10 M events (bench/live.ts's simulated 20:00 UTC) the 90-day active-users timeseries as
-- service_role took 157 ms, 6.4 ms without parallel workers; one call of
-- open_day_metrics(today, 'active_users') 71 ms against 0.5 ms. Reads as a signed-in
-- user go through the events policies, whose functions are not parallel safe: their plans
-- were serial already, and stay as they were.
--
-- Now both functions of the live part run their statements without parallel workers.
alter function private.open_day_metrics(date, text) set max_parallel_workers_per_gather = 0;
alter function private.open_day_value(date, text, text) set max_parallel_workers_per_gather = 0;
