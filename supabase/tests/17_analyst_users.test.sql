-- Analyst users (profiles.is_analyst): they read what the analyst role reads, take no admin
-- action, and save queries of their own on the SQL page.
begin;
select plan(18);
select tests.share_pgtap_tables();

select set_config('test.alice', tests.create_user('alice@analysts.test')::text, true);
select set_config('test.sam', tests.create_user('sam@analysts.test', true)::text, true);
select set_config('test.ann', tests.create_user('ann@analysts.test')::text, true);
update public.profiles set is_analyst = true where id = current_setting('test.ann')::uuid;
insert into public.events (event_type, user_id, "timestamp")
values ('page_view', current_setting('test.alice')::uuid, now() - interval '2 days');
insert into public.subscriptions (user_id, plan, status, amount_cents, currency, billing_interval, started_at)
values (current_setting('test.alice')::uuid, 'pro', 'active', 1000, 'USD', 'month', now() - interval '40 days');
select analytics.run_daily_aggregation();
select set_config('test.events', (select count(*) from public.events)::text, true);

-- ------------------------------------------------------------------ every analyst policy has its twin
select is(
  array(select format('%I.%I', a.schemaname, a.tablename) from pg_policies a
         where 'analyst' = any (a.roles) and a.cmd in ('SELECT', 'ALL')
           and not exists (select 1 from pg_policies t
                            where t.schemaname = a.schemaname and t.tablename = a.tablename
                              and 'authenticated' = any (t.roles) and t.cmd = 'SELECT'
                              and t.qual like '%private.is_analyst()%')
         order by 1),
  array[]::text[],
  'every table the analyst role reads has a policy letting signed-in analysts read it');
select is(
  array(select p.oid::regprocedure::text from pg_proc p
         where p.pronamespace in ('analytics'::regnamespace, 'private'::regnamespace)
           and p.prosrc like '%current_user <> ''authenticated'' or (select private.is_superuser())%'
           and p.prosrc not like '%or (select private.is_analyst())%'
         order by 1),
  array[]::text[],
  'every read path that lets superusers in by name lets analysts in too');

-- ------------------------------------------------------------------ nobody makes themselves an analyst
select tests.authenticate_as(current_setting('test.alice')::uuid);
select throws_ok($$update public.profiles set is_analyst = true where id = auth.uid()$$, '42501', null,
  'a signed-in user cannot mark themselves an analyst');
select is((select private.is_analyst()), false, 'an ordinary user is not an analyst');
select is((select count(*) from public.events), 0::bigint, 'an ordinary user reads no events');

-- ------------------------------------------------------------------ an analyst reads what the analyst role reads
select tests.authenticate_as(current_setting('test.ann')::uuid);
select is((select private.is_analyst()), true, 'a profile marked is_analyst is an analyst');
select is((select private.is_superuser()), false, 'an analyst is not a superuser');
select is((select count(*)::text from public.events), current_setting('test.events'), 'an analyst reads every event');
select ok((select count(*) from analytics.daily_metrics) > 0, 'an analyst reads the rollup');
select is((select count(*) from public.subscriptions), 1::bigint, 'an analyst reads every subscription');
select ok((select count(*) from analytics.daily_overview) > 0, 'an analyst reads the analysts'' views');
select is((select count(*) from private.subscription_events), 1::bigint,
  'an analyst reads the subscription events funnels count');
select throws_ok($$insert into analytics.exchange_rates (currency, rate_to_reporting, valid_from) values ('EUR', 1.1, current_date)$$,
  '42501', null, 'an analyst cannot change exchange rates (an admin action)');

-- ------------------------------------------------------------------ saved queries
insert into analytics.saved_queries (name, sql) values ('events', 'select count(*) from public.events');
select is((select owner from analytics.saved_queries where name = 'events'), current_setting('test.ann')::uuid,
  'an analyst saves a query, owned by them');
select tests.authenticate_as(current_setting('test.sam')::uuid);
select is((select count(*) from analytics.saved_queries), 1::bigint, 'a superuser reads the analysts'' saved queries');
select is_empty($$update analytics.saved_queries set sql = 'select 1' returning id$$,
  'a superuser cannot change someone else''s saved query');
select tests.authenticate_as(current_setting('test.alice')::uuid);
select is((select count(*) from analytics.saved_queries), 0::bigint, 'an ordinary user reads no saved queries');
select throws_ok($$insert into analytics.saved_queries (name, sql) values ('mine', 'select 1')$$, '42501', null,
  'an ordinary user cannot save a query');

select * from finish();
rollback;
