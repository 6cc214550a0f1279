-- Who may do what on the rollup (analytics.daily_metrics), its functions and views.
begin;
select plan(31);
select tests.share_pgtap_tables();

select set_config('test.alice', tests.create_user('alice@rollup.test')::text, true);
select set_config('test.sam', tests.create_user('sam@rollup.test', true)::text, true);
insert into public.events (event_type, user_id, "timestamp")
values ('page_view', current_setting('test.alice')::uuid, now() - interval '2 days');
select analytics.run_daily_aggregation();
select set_config('test.total', (select count(*) from analytics.daily_metrics)::text, true);
select ok(current_setting('test.total')::int > 0, 'the aggregation wrote rollup rows to test against');

-- ----------------------------------------------------------------------------- daily_metrics
select tests.act_as('anon');
select throws_ok($$select count(*) from analytics.daily_metrics$$, '42501', null, 'an anonymous visitor cannot read the rollup');
select throws_ok($$insert into analytics.daily_metrics (day, metric, value) values (current_date, 'events', 1)$$, '42501', null,
  'an anonymous visitor cannot write the rollup');
select throws_ok($$update analytics.daily_metrics set value = 0$$, '42501', null, 'an anonymous visitor cannot update the rollup');
select throws_ok($$delete from analytics.daily_metrics$$, '42501', null, 'an anonymous visitor cannot delete the rollup');

select tests.authenticate_as(current_setting('test.alice')::uuid);
select is((select count(*) from analytics.daily_metrics), 0::bigint, 'a signed-in user who is not a superuser reads no rollup rows');
select throws_ok($$insert into analytics.daily_metrics (day, metric, value) values (current_date, 'events', 1)$$, '42501', null,
  'a signed-in user cannot write the rollup');
select throws_ok($$update analytics.daily_metrics set value = 0$$, '42501', null, 'a signed-in user cannot update the rollup');
select throws_ok($$delete from analytics.daily_metrics$$, '42501', null, 'a signed-in user cannot delete the rollup');

select tests.authenticate_as(current_setting('test.sam')::uuid);
select is((select count(*)::text from analytics.daily_metrics), current_setting('test.total'), 'a superuser reads the whole rollup');
select throws_ok($$update analytics.daily_metrics set value = 0$$, '42501', null, 'a superuser cannot update the rollup');
select throws_ok($$delete from analytics.daily_metrics$$, '42501', null, 'a superuser cannot delete the rollup');
select throws_ok($$insert into analytics.daily_metrics (day, metric, value) values (current_date, 'events', 1)$$, '42501', null,
  'a superuser cannot write the rollup');

select tests.act_as('analyst');
select is((select count(*)::text from analytics.daily_metrics), current_setting('test.total'), 'an analyst reads the whole rollup');
select throws_ok($$insert into analytics.daily_metrics (day, metric, value) values (current_date, 'events', 1)$$, '42501', null,
  'an analyst cannot write the rollup');
select throws_ok($$update analytics.daily_metrics set value = 0$$, '42501', null, 'an analyst cannot update the rollup');
select throws_ok($$delete from analytics.daily_metrics$$, '42501', null, 'an analyst cannot delete the rollup');
select ok((select count(*) from analytics.daily_overview) > 0, 'an analyst reads the daily overview view');

select tests.act_as('service_role');
select is((select count(*)::text from analytics.daily_metrics), current_setting('test.total'), 'the service role reads the whole rollup');
select throws_ok($$insert into analytics.daily_metrics (day, metric, value) values (current_date, 'events', 1)$$, '42501', null,
  'the service role cannot write the rollup directly');
select throws_ok($$update analytics.daily_metrics set value = 0$$, '42501', null, 'the service role cannot update the rollup directly');
select throws_ok($$delete from analytics.daily_metrics$$, '42501', null, 'the service role cannot delete the rollup directly');
select lives_ok($$select analytics.run_daily_aggregation()$$, 'the service role can run the nightly aggregation');

-- ----------------------------------------------------------------------------- functions and views
select tests.act_as('anon');
select throws_ok($$select * from analytics.summary()$$, '42501', null, 'an anonymous visitor cannot call analytics.summary()');
select throws_ok($$select * from analytics.daily_overview$$, '42501', null, 'an anonymous visitor cannot read the analyst views');
select tests.authenticate_as(current_setting('test.alice')::uuid);
select throws_ok($$select analytics.run_daily_aggregation()$$, '42501', null, 'a signed-in user cannot run the aggregation');
select throws_ok(format($$select analytics.aggregate_day(%L)$$, current_date - 1), '42501', null, 'a signed-in user cannot aggregate a day');
select is((select count(*) from analytics.daily_overview), 0::bigint, 'the analyst views show a non-superuser nothing (security_invoker)');
select is((select total_signups from analytics.summary()), 0::bigint, 'analytics.summary() counts no signups for a non-superuser');
select tests.authenticate_as(current_setting('test.sam')::uuid);
select ok((select total_signups from analytics.summary()) >= 2, 'analytics.summary() counts every signup for a superuser');
select tests.act_as('analyst');
select throws_ok($$select analytics.run_daily_aggregation()$$, '42501', null, 'an analyst cannot run the aggregation');

select * from finish();
rollback;
