-- Revenue's kept days (private.revenue_days): who may read them, that only the refresh
-- writes them, that any write to what the engine reads makes them stale, and the schedule.
begin;
select plan(19);
select tests.share_pgtap_tables();

select set_config('test.ann', tests.create_user('ann@revenue-cache.test')::text, true);
select set_config('test.sam', tests.create_user('sam@revenue-cache.test', true)::text, true);
insert into public.subscriptions (user_id, plan, status, amount_cents, currency, started_at)
values (current_setting('test.ann')::uuid, 'pro', 'active', 4900, 'USD', now() - interval '3 days');
select is((select (beacon.refresh_revenue_report() ->> 'refreshed')::boolean), true, 'the refresh keeps the days');
select is((select (beacon.refresh_revenue_report() ->> 'refreshed')::boolean), false, 'and does nothing when nothing changed');

-- ----------------------------------------------------------------- hygiene
select is(
  (select count(*) from pg_proc p
    where p.oid in ('private.revenue_days_for(date,date)'::regprocedure)
      and not p.prosecdef and p.proconfig @> array['search_path=""']),
  1::bigint, 'the reader is security invoker with an empty search_path');
select is(
  (select count(*) from pg_class c
    where c.oid in ('private.revenue_days'::regclass, 'private.revenue_days_state'::regclass,
                    'private.revenue_trials'::regclass) and c.relrowsecurity),
  3::bigint, 'row level security is on for the kept days and their state');

-- ----------------------------------------------------------------- anon
select tests.act_as('anon');
select throws_ok($$select * from private.revenue_days$$, '42501', null, 'an anonymous visitor cannot read the kept days');
select throws_ok($$select beacon.refresh_revenue_report()$$, '42501', null, 'nor refresh them');

-- ----------------------------------------------------------------- an ordinary user
select tests.authenticate_as(current_setting('test.ann')::uuid);
select is((select count(*)::int from private.revenue_days), 0, 'an ordinary user reads none of the kept days');
select is((select count(*)::int from private.revenue_trials), 0, 'nor the kept trials');
select is((select mrr from analytics.mrr_movements(current_date, current_date)), 0.00,
  'and the report still shows them no MRR while the days are kept');
select throws_ok($$select beacon.refresh_revenue_report()$$, '42501', null, 'an ordinary user cannot refresh them');
select throws_ok($$delete from private.revenue_days$$, '42501', null, 'nor delete them');

-- ----------------------------------------------------------------- a superuser
select tests.authenticate_as(current_setting('test.sam')::uuid);
select ok((select count(*) > 1000 from private.revenue_days), 'a superuser reads the kept days');
select throws_ok($$delete from private.revenue_trials$$, '42501', null, 'but cannot delete the kept trials');
select is((select mrr from analytics.mrr_movements(current_date, current_date)), 49.00, 'and the MRR from them');
select throws_ok($$update private.revenue_days set mrr = 0$$, '42501', null, 'but cannot change them');
select lives_ok($$insert into analytics.exchange_rates values ('EUR', 1.1, current_date)$$, 'a superuser adds a rate');
select is(
  (select st.change_seen = (select last_value from private.revenue_changes) from private.revenue_days_state st),
  false, 'which makes the kept days stale');
select tests.clear_authentication();

-- ----------------------------------------------------------------- the schedule
select is((select count(*)::int from pg_extension where extname = 'pg_cron'), 1, 'pg_cron is here');
select is((select schedule from cron.job where jobname = 'beacon_revenue_report'), '15 * * * *',
  'pg_cron refreshes them at a quarter past every hour');

select * from finish();
rollback;
