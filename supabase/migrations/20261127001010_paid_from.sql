-- =======================================================================================
-- When a subscription starts paying: one definition, private.paid_from
-- =======================================================================================
-- A subscription pays from the end of its trial, or from its start when it has no trial:
-- greatest(started_at, trial_ends_at) (greatest ignores a null trial_ends_at). The
-- expression was written out eight times across private.paying_subscriptions and
-- private.compute_day; they now call this function, recreated in this migration and in
-- 20261127001020_compute_day_by_family.sql.
--
-- A function rather than a generated column on public.subscriptions: a stored column would
-- show in every `select *` of the table and make a row read back and written again (an
-- upsert of what a client selected) fail, so apps would see the table change. This one is
-- a SQL function of the two columns, immutable and without SET options, so the planner
-- inlines it back into the plain expression: the plans stay what they were. Immutable also
-- lets an expression index use it, should one be needed.

create function private.paid_from(started_at timestamptz, trial_ends_at timestamptz)
returns timestamptz
language sql
immutable
parallel safe
as $$
  select greatest(started_at, trial_ends_at)
$$;
comment on function private.paid_from(timestamptz, timestamptz) is
  'When a subscription starts paying: the end of its trial, or its start without a trial. Pass started_at and trial_ends_at.';
-- The read functions run as the caller, and inlining checks the caller's right to execute.
revoke all on function private.paid_from(timestamptz, timestamptz) from public, anon, authenticated, service_role;
grant execute on function private.paid_from(timestamptz, timestamptz) to authenticated, service_role, analyst;

-- ---------------------------------------------------------------------------------------
-- Subscriptions paying at an instant: past any trial, not ended, not trialing. Inlinable
-- (no SET options; every name qualified).
-- ---------------------------------------------------------------------------------------
create or replace function private.paying_subscriptions(at_instant timestamptz)
returns table (user_id uuid, plan text, currency text, monthly_cents numeric)
language sql
stable
as $$
  select s.user_id,
         s.plan,
         s.currency,
         case when s.billing_interval = 'year' then s.amount_cents / 12.0 else s.amount_cents::numeric end
    from public.subscriptions s
   where s.status <> 'trialing'
     and private.paid_from(s.started_at, s.trial_ends_at) < at_instant
     and (s.canceled_at is null or s.canceled_at >= at_instant)
$$;
comment on function private.paying_subscriptions(timestamptz) is
  'Subscriptions paying just before at_instant (past any trial, not ended), with their monthly amount (yearly / 12).';
revoke all on function private.paying_subscriptions(timestamptz) from public, anon, authenticated, service_role;
grant execute on function private.paying_subscriptions(timestamptz) to authenticated, service_role, analyst;
