-- =======================================================================================
-- Funnels: no nested loops over the step CTE
-- =======================================================================================
-- Through row-level security the planner cannot see how many events the superuser's policy
-- lets through, guesses few, and joins the materialized per-event CTE to itself with a
-- nested loop: quadratic in the events of the range (PGlite's demo data: 0.17 s as the
-- owner, 17 s as a superuser). Every join in private.funnel_attempts is an equality on a
-- person and an instant, so hash and merge joins are always right.
alter function private.funnel_attempts(jsonb, date, date, interval, text, text) set enable_nestloop = off;
