-- Revenue: who may read the revenue reports, who may write the exchange rates and the
-- reporting currency, and the functions' hygiene.
begin;
select plan(33);
select tests.share_pgtap_tables();

select set_config('test.ann', tests.create_user('ann@revenue.test')::text, true);
select set_config('test.sam', tests.create_user('sam@revenue.test', true)::text, true);

-- Ann pays 29 EUR a month since 20 days ago, upgraded to 49 EUR 5 days ago (one row ends,
-- the next starts at the same instant).
insert into public.subscriptions (user_id, plan, status, amount_cents, currency, started_at, canceled_at)
values (current_setting('test.ann')::uuid, 'pro', 'canceled', 2900, 'EUR',
        date_trunc('day', now()) - interval '20 days' + interval '10 hours',
        date_trunc('day', now()) - interval '5 days' + interval '10 hours'),
       (current_setting('test.ann')::uuid, 'team', 'active', 4900, 'EUR',
        date_trunc('day', now()) - interval '5 days' + interval '10 hours', null);
insert into analytics.exchange_rates (currency, rate_to_reporting, valid_from)
values ('EUR', 1.10, current_date - 10);

-- Rows a statement changed, run as the caller.
create function pg_temp.changed(statement text) returns integer language plpgsql as $$
declare n integer;
begin
  execute statement;
  get diagnostics n = row_count;
  return n;
end
$$;

-- ----------------------------------------------------------------- hygiene
select is(
  (select count(*) from pg_proc p
    where p.oid in ('analytics.mrr_movements(date,date)'::regprocedure,
                    'analytics.revenue_churn(date,date)'::regprocedure,
                    'analytics.trial_conversion(date,date)'::regprocedure,
                    'private.revenue_engine(date,date)'::regprocedure)
      and not p.prosecdef and p.proconfig @> array['search_path=""']),
  4::bigint, 'the revenue reports and their engine are security invoker with an empty search_path');
select ok(tests.rls_enabled('analytics'), 'row level security is on for every analytics table');

-- ----------------------------------------------------------------- anon
select tests.act_as('anon');
select throws_ok($$select * from analytics.mrr_movements(current_date - 30, current_date)$$, '42501', null,
  'an anonymous visitor cannot run MRR movements');
select throws_ok($$select * from analytics.revenue_churn(current_date - 30, current_date)$$, '42501', null,
  'an anonymous visitor cannot run revenue churn');
select throws_ok($$select * from analytics.trial_conversion(current_date - 30, current_date)$$, '42501', null,
  'an anonymous visitor cannot run trial conversion');
select throws_ok($$select * from analytics.exchange_rates$$, '42501', null,
  'an anonymous visitor cannot read exchange rates');
select throws_ok($$insert into analytics.exchange_rates values ('GBP', 1.2, current_date)$$, '42501', null,
  'an anonymous visitor cannot add an exchange rate');

-- ----------------------------------------------------------------- an ordinary user
select tests.authenticate_as(current_setting('test.ann')::uuid);
select is((select sum(mrr)::numeric from analytics.mrr_movements(current_date - 30, current_date)), 0::numeric,
  'an ordinary signed-in user sees no MRR, not even their own');
select is((select sum(trials)::int from analytics.trial_conversion(current_date - 30, current_date)), 0,
  'nor any trial');
select is((select count(*)::int from analytics.exchange_rates), 0, 'nor any exchange rate');
select throws_ok($$insert into analytics.exchange_rates values ('GBP', 1.2, current_date)$$, '42501', null,
  'an ordinary user cannot add an exchange rate');
select is(pg_temp.changed($$update analytics.exchange_rates set rate_to_reporting = 99$$), 0,
  'nor change one (RLS hides them all)');
select is(pg_temp.changed($$delete from analytics.exchange_rates$$), 0,
  'nor remove one');
select is(pg_temp.changed($$update analytics.revenue_settings set reporting_currency = 'EUR'$$), 0,
  'nor change the reporting currency');

-- ----------------------------------------------------------------- a superuser
select tests.authenticate_as(current_setting('test.sam')::uuid);
select is((select mrr from analytics.mrr_movements(current_date, current_date)), 53.90,
  'a superuser sees Ann''s 49 EUR at 1.10 as 53.90 USD of MRR');
select is((select expansion_mrr from analytics.mrr_movements(current_date - 5, current_date - 5)), 22.00,
  'and her upgrade as 22.00 of expansion, not a churn and a new customer');
select is((select paying_customers from analytics.mrr_movements(current_date - 5, current_date - 5)), 1::bigint,
  'one paying customer through the upgrade');
select is((select unconverted from analytics.mrr_movements(current_date - 12, current_date - 12)),
  '{"EUR": {"mrr": 29.00, "subscriptions": 1}}'::jsonb,
  'before the rate was valid, her euros are shown apart, not dropped');
select lives_ok($$insert into analytics.exchange_rates values ('GBP', 1.27, current_date)$$,
  'a superuser adds an exchange rate');
select lives_ok($$update analytics.exchange_rates set rate_to_reporting = 1.25 where currency = 'GBP'$$,
  'changes it');
select lives_ok($$delete from analytics.exchange_rates where currency = 'GBP'$$, 'and removes it');
select throws_ok($$insert into analytics.exchange_rates values ('gbp', 1.27, current_date)$$, '23514', null,
  'a currency is an upper-case ISO code');
select throws_ok($$insert into analytics.exchange_rates values ('GBP', 0, current_date)$$, '23514', null,
  'a rate is positive');
select is(pg_temp.changed($$update analytics.revenue_settings set reporting_currency = 'USD'$$), 1,
  'a superuser may set the reporting currency');
select throws_ok($$select * from analytics.mrr_movements(current_date, current_date - 1)$$, '22023',
  null, 'a reversed range is 22023');

-- ----------------------------------------------------------------- an analyst
select tests.act_as('analyst');
select is((select mrr from analytics.mrr_movements(current_date, current_date)), 53.90,
  'an analyst reads the same MRR');
select is((select count(*)::int from analytics.exchange_rates), 1, 'an analyst reads the rates');
select throws_ok($$insert into analytics.exchange_rates values ('GBP', 1.2, current_date)$$, '42501', null,
  'but cannot add one');
select throws_ok($$update analytics.revenue_settings set reporting_currency = 'EUR'$$, '42501', null,
  'nor change the reporting currency');
select throws_ok($$select * from analytics.trial_conversion(current_date, current_date - 40)$$, '22023',
  'analytics.trial_conversion: from_month (' || current_date || ') is after to_month (' || (current_date - 40) || ')',
  'the error names the argument');

-- ----------------------------------------------------------------- service_role
select tests.act_as('service_role');
select lives_ok($$insert into analytics.exchange_rates values ('JPY', 0.0067, current_date)$$,
  'the service role loads rates');
select is((select count(*)::int from analytics.exchange_rates), 2, 'and reads them');
select tests.clear_authentication();

-- ----------------------------------------------------------------- summary() unchanged
select is((select mrr_estimate_usd from analytics.summary()), 0.00,
  'summary()''s mrr_estimate_usd still counts USD subscriptions only');

select * from finish();
rollback;
