-- =======================================================================================
-- analytics.user_activity: indexed by day only
-- =======================================================================================
-- analytics.user_activity (one row per signed-in user and closed day) had two B-trees: its
-- primary key (day, user_id) and user_activity_user_idx (user_id, day). Every reader in
-- Beacon reads it by day (the windows' fallback, private.user_days, private.close_day,
-- compute_day's active users) or whole (analytics.weekly_retention); none looks a user up.
-- The second index only costs: closing a day inserts its ~60-100 k users at random places
-- in it (users are not in day order), one leaf page each, and at the scale run's size (13
-- months of days, ~25 M rows, 1.5 GB for that index alone) those pages are mostly outside
-- shared buffers and each costs a read and, after a checkpoint, a full-page image. Measured
-- on a 10 M database with user_activity grown to 25 M rows: a day of 1 M events closed in
-- 2.54-3.17 s with the index, 2.39-2.46 s without.
--
-- An analyst who looks users up one by one in user_activity can create the index again
-- (`create index on analytics.user_activity (user_id, day)`); per-user history is also in
-- public.events and analytics.person_day_bits.

drop index if exists analytics.user_activity_user_idx;
