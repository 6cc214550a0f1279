-- =======================================================================================
-- Analyst users: a flag beside is_superuser on profiles. A signed-in analyst reads what the
-- `analyst` role reads (the reports, the SQL page), but takes no admin action.
-- =======================================================================================
-- How access is decided today: every table an analyst may read has a policy `for select to
-- analyst` (for database logins granted `analyst`), and a policy `for select to
-- authenticated using ((select private.is_superuser()))` (for signed-in superusers). A few
-- read paths decide inside SQL (`current_user <> 'authenticated' or (select
-- private.is_superuser())`). This migration adds, for signed-in analysts:
--   1. `private.is_analyst()`, the twin of `private.is_superuser()`;
--   2. for every select policy granted to `analyst`, the same condition guarded by
--      `private.is_analyst()` added (with `or`) to the table's select policy for
--      `authenticated` (one permissive policy per role and action, as 08_api_surface checks);
--   3. `or (select private.is_analyst())` beside each in-SQL superuser check of a read path.
-- Write policies (tracked properties, exchange rates, revenue settings) stay superuser-only.
-- supabase/tests/17_analyst_users.test.sql checks that every table the analyst role reads
-- lets signed-in analysts read it, so a table added later without that fails the suite.

-- Apps keep inserting events while this runs (`supabase db push` on a live project): an
-- insert locks public.events, then its triggers write analytics.person_links,
-- analytics.pending_person_links and private.event_ids. The policies below are altered in
-- any order, so public.events is taken first: writers wait at it (before their triggers)
-- instead of deadlocking with the policy changes.
lock table public.events in access exclusive mode;

alter table public.profiles add column is_analyst boolean not null default false;
comment on column public.profiles.is_analyst is
  'Analysts read every report and use the SQL page, as superusers do, but take no admin action. Only service_role (or the database owner) can change it.';

create function private.is_analyst()
returns boolean
language sql
stable
security definer
set search_path = ''
as $$
  select coalesce(
    (select p.is_analyst from public.profiles p where p.id = (select auth.uid())),
    false
  )
$$;
comment on function private.is_analyst() is
  'True when the signed-in user (auth.uid()) has a profile marked is_analyst.';
revoke all on function private.is_analyst() from public, anon, authenticated, service_role;
grant execute on function private.is_analyst() to authenticated, service_role, analyst;

-- ---------------------------------------------------------------------------------------
-- 2. Signed-in analysts read what the analyst role reads
-- ---------------------------------------------------------------------------------------
do $twins$
declare
  p record;
  reader record;
  analysts text;
begin
  for p in
    select pol.schemaname, pol.tablename, coalesce(pol.qual, 'true') as qual
      from pg_policies pol
     where 'analyst' = any (pol.roles) and pol.cmd in ('SELECT', 'ALL')
     order by 1, 2
  loop
    analysts := format('((select private.is_analyst()) and (%s))', p.qual);
    select t.policyname, t.qual into reader
      from pg_policies t
     where t.schemaname = p.schemaname and t.tablename = p.tablename
       and 'authenticated' = any (t.roles) and t.cmd = 'SELECT' and t.permissive = 'PERMISSIVE'
     order by t.policyname
     limit 1;
    if reader.policyname is null then
      execute format('create policy %I on %I.%I for select to authenticated using %s',
                     left('Analysts can read ' || replace(p.tablename, '_', ' '), 63),
                     p.schemaname, p.tablename, analysts);
    else
      -- One permissive policy per role and action (08_api_surface): widen the existing one.
      execute format('alter policy %I on %I.%I using ((%s) or %s)',
                     reader.policyname, p.schemaname, p.tablename, reader.qual, analysts);
      if reader.policyname like 'Superusers can read %'
         and char_length(reader.policyname) + 13 <= 63 then
        execute format('alter policy %I on %I.%I rename to %I', reader.policyname, p.schemaname,
                       p.tablename, replace(reader.policyname, 'Superusers can read', 'Superusers and analysts can read'));
      end if;
    end if;
  end loop;
end
$twins$;

-- ---------------------------------------------------------------------------------------
-- 3. The read paths that decide in SQL
-- ---------------------------------------------------------------------------------------
do $reads$
declare
  f record;
  guard constant text := 'current_user <> ''authenticated'' or (select private.is_superuser())';
begin
  for f in
    select p.oid from pg_proc p
     where p.pronamespace in ('analytics'::regnamespace, 'private'::regnamespace)
       and p.prosrc like '%' || guard || '%'
  loop
    execute replace(pg_get_functiondef(f.oid), guard,
                    guard || ' or (select private.is_analyst())');
  end loop;
end
$reads$;

create or replace view private.subscription_events
with (security_invoker = true)
as
select s.user_id, 'subscription_trial_started'::text as event_type, s.started_at as "timestamp",
       jsonb_build_object('plan', s.plan, 'status', s.status, 'billing_interval', s.billing_interval,
                          'currency', s.currency, 'amount_cents', s.amount_cents) as payload
  from public.subscriptions s
 where s.trial_ends_at is not null and s.trial_ends_at > s.started_at
   and (current_user <> 'authenticated' or (select private.is_superuser()) or (select private.is_analyst()))
union all
select s.user_id, 'subscription_paid'::text, private.paid_from(s.started_at, s.trial_ends_at),
       jsonb_build_object('plan', s.plan, 'status', s.status, 'billing_interval', s.billing_interval,
                          'currency', s.currency, 'amount_cents', s.amount_cents)
  from public.subscriptions s
 where s.status <> 'trialing'
   and private.paid_from(s.started_at, s.trial_ends_at) <= now()
   and (s.canceled_at is null or s.canceled_at > private.paid_from(s.started_at, s.trial_ends_at))
   and (current_user <> 'authenticated' or (select private.is_superuser()) or (select private.is_analyst()));
