-- One day's metrics, family by family, on a small fixture whose numbers are worked out by
-- hand below; private.compute_day as their composition; private.paid_from; the names
-- private.close_day raises and locks under; summary() and summary_as_of() on one definition.
begin;
select plan(33);
select tests.share_pgtap_tables();

-- ----------------------------------------------------------------- the fixture
-- D is the day under test: ten UTC days ago. Nothing is closed until the end of the file.
select set_config('test.d', ((now() at time zone 'UTC')::date - 10)::text, true);
select set_config('test.today', ((now() at time zone 'UTC')::date)::text, true);
create function pg_temp.at_utc(days_after_d integer, clock text)
returns timestamptz
language sql
stable
as $$ select (current_setting('test.d')::date + days_after_d + clock::time)::timestamp at time zone 'UTC' $$;

select set_config('test.' || name, tests.create_user(name || '@day.test')::text, true)
  from unnest(array['alice', 'bob', 'carol', 'dave', 'erin', 'frank', 'gina', 'harry', 'ivy']) as name;
-- Only this file's people, events and subscriptions exist; the rollup is empty.
delete from auth.users u where u.email not like '%@day.test';
delete from public.events;
delete from public.subscriptions;
truncate analytics.daily_metrics, analytics.user_activity, analytics.bucket_active_users,
         analytics.aggregated_days, analytics.aggregation_runs;
-- Everyone signed up long before D but ivy, who signs up today.
update public.profiles set created_at = pg_temp.at_utc(-50, '12:00')
 where id <> current_setting('test.ivy')::uuid;

insert into public.events (event_type, user_id, anonymous_id, "timestamp") values
  -- On D: five events, three signed-in users (alice, bob, dave) and an anonymous visitor.
  ('page_view', current_setting('test.alice')::uuid, null, pg_temp.at_utc(0, '00:00')),
  ('page_view', current_setting('test.alice')::uuid, null, pg_temp.at_utc(0, '12:00')),
  ('click', current_setting('test.bob')::uuid, null, pg_temp.at_utc(0, '23:59:59.999999')),
  ('page_view', null, 'visitor-1', pg_temp.at_utc(0, '08:00')),
  ('user_signup', current_setting('test.dave')::uuid, null, pg_temp.at_utc(0, '09:00')),
  -- Not on D: the next day's first instant, and the days before (the 7- and 30-day windows).
  ('page_view', current_setting('test.bob')::uuid, null, pg_temp.at_utc(1, '00:00')),
  ('page_view', current_setting('test.carol')::uuid, null, pg_temp.at_utc(-1, '23:59:59')),
  ('page_view', current_setting('test.carol')::uuid, null, pg_temp.at_utc(-6, '12:00')),
  ('page_view', current_setting('test.erin')::uuid, null, pg_temp.at_utc(-7, '12:00')),
  ('page_view', current_setting('test.frank')::uuid, null, pg_temp.at_utc(-29, '12:00')),
  ('page_view', current_setting('test.gina')::uuid, null, pg_temp.at_utc(-30, '12:00'));

insert into public.subscriptions
  (user_id, plan, status, amount_cents, currency, billing_interval, started_at, trial_ends_at, canceled_at)
values
  -- Paying at the end of D: alice, bob (yearly: 12000 / 12 a month), carol (EUR: not in
  -- MRR), gina's new plan, harry, ivy.
  (current_setting('test.alice')::uuid, 'pro', 'active', 1000, 'USD', 'month', pg_temp.at_utc(-40, '12:00'), null, null),
  (current_setting('test.bob')::uuid, 'pro', 'active', 12000, 'USD', 'year', pg_temp.at_utc(-40, '12:00'), null, null),
  (current_setting('test.carol')::uuid, 'basic', 'active', 500, 'EUR', 'month', pg_temp.at_utc(-40, '12:00'), null, null),
  -- dave is trialing: never paying.
  (current_setting('test.dave')::uuid, 'pro', 'trialing', 1000, 'USD', 'month', pg_temp.at_utc(-3, '12:00'), pg_temp.at_utc(5, '00:00'), null),
  -- erin's trial ends at the first instant of D + 1: not paying at the end of D, paying now.
  (current_setting('test.erin')::uuid, 'basic', 'active', 300, 'USD', 'month', pg_temp.at_utc(-20, '12:00'), pg_temp.at_utc(1, '00:00'), null),
  -- frank stops paying on D: churned.
  (current_setting('test.frank')::uuid, 'pro', 'canceled', 2000, 'USD', 'month', pg_temp.at_utc(-40, '12:00'), null, pg_temp.at_utc(0, '10:00')),
  -- gina changes plan on D: neither new nor churned.
  (current_setting('test.gina')::uuid, 'basic', 'canceled', 500, 'USD', 'month', pg_temp.at_utc(-40, '12:00'), null, pg_temp.at_utc(0, '12:00')),
  (current_setting('test.gina')::uuid, 'pro', 'active', 1500, 'USD', 'month', pg_temp.at_utc(0, '12:00'), null, null),
  -- harry's trial ends on D, ivy starts on D without one: both new.
  (current_setting('test.harry')::uuid, 'basic', 'active', 700, 'USD', 'month', pg_temp.at_utc(-14, '12:00'), pg_temp.at_utc(0, '06:00'), null),
  (current_setting('test.ivy')::uuid, 'pro', 'active', 900, 'USD', 'month', pg_temp.at_utc(0, '15:00'), null, null);

-- ----------------------------------------------------------------- private.paid_from
select is(private.paid_from('2026-03-01 10:00+00', null), '2026-03-01 10:00+00'::timestamptz,
  'a subscription without a trial pays from its start');
select is(private.paid_from('2026-03-01 10:00+00', '2026-03-15 00:00+00'), '2026-03-15 00:00+00'::timestamptz,
  'a subscription with a trial pays from the trial''s end');
select is(private.paid_from('2026-03-01 10:00+00', '2026-02-15 00:00+00'), '2026-03-01 10:00+00'::timestamptz,
  'a trial that ended before the start does not move the start');

-- ----------------------------------------------------------------- each family on D
select set_eq(
  $$select metric, dimension, value from private.day_events(current_setting('test.d')::date)$$,
  $$values ('events'::text, ''::text, 5::numeric), ('events', 'page_view', 3), ('events', 'click', 1),
           ('events', 'user_signup', 1)$$,
  'events: every event from D''s first to its last microsecond, in all and per type, anonymous ones included');
select set_eq(
  $$select metric, dimension, value from private.day_signups(current_setting('test.d')::date)$$,
  $$values ('signups'::text, ''::text, 1::numeric)$$,
  'signups: the user_signup events of D');
select set_eq(
  $$select metric, dimension, value from private.day_active_users(current_setting('test.d')::date)$$,
  $$values ('active_users'::text, ''::text, 3::numeric)$$,
  'active users: distinct signed-in users with an event on D, anonymous visitors not counted');
select set_eq(
  $$select metric, dimension, value from private.day_window_active_users(current_setting('test.d')::date)$$,
  $$values ('weekly_active_users'::text, ''::text, 4::numeric), ('monthly_active_users', '', 6)$$,
  'active users: the 7 days ending D hold 4 users, the 30 days 6 (a user 30 days back is out)');
select set_eq(
  $$select metric, dimension, value from private.day_paying_subscriptions(current_setting('test.d')::date)$$,
  $$values ('active_subscriptions'::text, ''::text, 6::numeric), ('active_subscriptions', 'pro', 4),
           ('active_subscriptions', 'basic', 2),
           ('mrr_cents', '', 5100), ('mrr_cents', 'pro', 4400), ('mrr_cents', 'basic', 700)$$,
  'subscriptions and revenue: paying at the end of D, in all and per plan; MRR in USD, yearly plans a twelfth');
select set_eq(
  $$select metric, dimension, value from private.day_subscription_changes(current_setting('test.d')::date)$$,
  $$values ('new_subscriptions'::text, ''::text, 2::numeric), ('churned_subscriptions', '', 1)$$,
  'subscriptions: two users started paying on D and one stopped; a plan change is neither');

-- ----------------------------------------------------------------- as the caller
select tests.authenticate_as(current_setting('test.alice')::uuid);
select set_eq(
  $$select metric, dimension, value from private.day_events(current_setting('test.d')::date)$$,
  $$values ('events'::text, ''::text, 0::numeric)$$,
  'a signed-in user who is not a superuser counts no events (row-level security applies)');
select set_eq(
  $$select metric, dimension, value from private.day_paying_subscriptions(current_setting('test.d')::date)$$,
  $$values ('active_subscriptions'::text, ''::text, 1::numeric), ('active_subscriptions', 'pro', 1),
           ('mrr_cents', '', 1000), ('mrr_cents', 'pro', 1000)$$,
  'a signed-in user counts only their own subscription');
select tests.act_as('anon');
select throws_ok($$select * from private.day_events(current_date - 1)$$, '42501', null,
  'an anonymous visitor cannot call a metric family');
select tests.clear_authentication();

-- ----------------------------------------------------------------- compute_day composes them
select set_eq(
  $$select metric, dimension, value from private.compute_day(current_setting('test.d')::date)$$,
  $$values ('events'::text, ''::text, 5::numeric), ('events', 'page_view', 3), ('events', 'click', 1),
           ('events', 'user_signup', 1), ('signups', '', 1), ('active_users', '', 3),
           ('weekly_active_users', '', 4), ('monthly_active_users', '', 6),
           ('active_subscriptions', '', 6), ('active_subscriptions', 'pro', 4), ('active_subscriptions', 'basic', 2),
           ('mrr_cents', '', 5100), ('mrr_cents', 'pro', 4400), ('mrr_cents', 'basic', 700),
           ('new_subscriptions', '', 2), ('churned_subscriptions', '', 1)$$,
  'compute_day returns every family''s rows');
select is(
  (select count(*) from private.compute_day(current_setting('test.d')::date, null, false)
    where metric in ('weekly_active_users', 'monthly_active_users')),
  0::bigint, 'compute_day without windows leaves out weekly and monthly active users');
select set_eq(
  $$select metric, dimension, value from private.compute_day(current_setting('test.d')::date, 'mrr_cents')$$,
  $$values ('mrr_cents'::text, ''::text, 5100::numeric), ('mrr_cents', 'pro', 4400), ('mrr_cents', 'basic', 700)$$,
  'compute_day for one metric returns only that metric''s rows');
select set_eq(
  $$select metric, dimension, value from private.compute_day(current_setting('test.d')::date, 'monthly_active_users')$$,
  $$values ('monthly_active_users'::text, ''::text, 6::numeric)$$,
  'compute_day for a window metric returns only that window');
select throws_ok($$select * from private.compute_day(null)$$, '22004', 'private.compute_day: target_day must not be null',
  'compute_day refuses a missing day');

-- ----------------------------------------------------------------- summary and summary_as_of
select results_eq(
  $$select * from analytics.summary_as_of(current_setting('test.d')::date)$$,
  $$values (8::bigint, 1::bigint, 6::bigint, 51.00::numeric, 3::bigint, 4::bigint, 6::bigint)$$,
  'summary_as_of(D): users created by the end of D, signups through D, paying at its end, D''s active users');
select results_eq(
  $$select * from analytics.summary()$$,
  $$values (9::bigint, 1::bigint, 7::bigint, 54.00::numeric, 0::bigint, 0::bigint, 5::bigint)$$,
  'summary(): every user, signups through today, paying now, yesterday''s active users');
select results_eq(
  $$select dau, wau, mau from analytics.summary()$$,
  $$select dau, wau, mau from analytics.summary_as_of(current_setting('test.today')::date - 1)$$,
  'summary()''s active users are summary_as_of(yesterday)''s');
select results_eq(
  $$select total_signups from analytics.summary()$$,
  $$select total_signups from analytics.summary_as_of(current_setting('test.today')::date)$$,
  'summary()''s signups are summary_as_of(today)''s');

-- ----------------------------------------------------------------- closing D
select throws_ok($$select analytics.aggregate_day(null)$$, '22004', 'private.close_day: day must not be null',
  'closing no day is refused in close_day''s own name');
select throws_like(format($$select analytics.aggregate_day(%L)$$, current_setting('test.today')),
  'private.close_day: % is not over yet %',
  'closing today is refused in close_day''s own name');

select lives_ok(format($$select analytics.aggregate_day(%L)$$, current_setting('test.d')),
  'D can be closed');
select ok(
  exists (select 1 from pg_locks l
           where l.locktype = 'advisory' and l.pid = pg_backend_pid()
             and l.classid::bigint = hashtext('beacon.close_day')::bigint & 4294967295
             and l.objid::bigint = current_setting('test.d')::date - date '2000-01-01'),
  'closing D holds the advisory lock named after close_day, keyed by the day');
select ok(
  not exists (select 1 from pg_locks l
               where l.locktype = 'advisory' and l.pid = pg_backend_pid()
                 and l.classid::bigint = hashtext('beacon.aggregate_day')::bigint & 4294967295),
  'no lock is taken under aggregate_day''s name any more');
select set_eq(
  $$select metric, dimension, value from analytics.daily_metrics where day = current_setting('test.d')::date$$,
  $$values ('events'::text, ''::text, 5::numeric), ('events', 'page_view', 3), ('events', 'click', 1),
           ('events', 'user_signup', 1), ('signups', '', 1), ('active_users', '', 3),
           ('weekly_active_users', '', 4), ('monthly_active_users', '', 6),
           ('active_subscriptions', '', 6), ('active_subscriptions', 'pro', 4), ('active_subscriptions', 'basic', 2),
           ('mrr_cents', '', 5100), ('mrr_cents', 'pro', 4400), ('mrr_cents', 'basic', 700),
           ('new_subscriptions', '', 2), ('churned_subscriptions', '', 1)$$,
  'the closed day''s rollup holds the same numbers, windows included');
select set_eq(
  $$select metric, dimension, value from private.day_active_users(current_setting('test.d')::date)$$,
  $$values ('active_users'::text, ''::text, 3::numeric)$$,
  'active users of a closed day come from its activity rows: the same number');
select set_eq(
  $$select metric, dimension, value from private.day_window_active_users(current_setting('test.d')::date)$$,
  $$values ('weekly_active_users'::text, ''::text, 4::numeric), ('monthly_active_users', '', 6)$$,
  'the windows of a closed day: the same numbers');
select results_eq(
  $$select * from analytics.summary_as_of(current_setting('test.d')::date)$$,
  $$values (8::bigint, 1::bigint, 6::bigint, 51.00::numeric, 3::bigint, 4::bigint, 6::bigint)$$,
  'summary_as_of(D) from the rollup: the same numbers as computed live');

-- ----------------------------------------------------------------- written out where read
select ok(
  (select count(*) = 12 from pg_policies
    where schemaname = 'analytics'
      and tablename in ('metric_definitions', 'daily_metrics', 'user_activity', 'bucket_active_users',
                        'aggregated_days', 'aggregation_runs')),
  'the rollup tables keep their twelve read policies');
select is(
  (select count(*) from pg_proc p
    where p.pronamespace in ('private'::regnamespace, 'analytics'::regnamespace)
      and p.proname <> 'paid_from' and p.prosrc like '%greatest(%started_at%'),
  0::bigint, 'no function spells out greatest(started_at, trial_ends_at) but private.paid_from');
select is(
  (select array_agg(p.proname::text order by p.proname) from pg_proc p
    where p.pronamespace = 'private'::regnamespace and p.proname like 'day\_%'
      and has_function_privilege('authenticated', p.oid, 'execute')
      and not has_function_privilege('anon', p.oid, 'execute')),
  array['day_active_users', 'day_events', 'day_paying_subscriptions', 'day_signups',
        'day_subscription_changes', 'day_window_active_users'],
  'the six metric families are executable by signed-in users, not by anon');

select * from finish();
rollback;
