-- Funnels: who may read them, their hygiene, subscription events and the named funnels.
begin;
select plan(17);
select tests.share_pgtap_tables();

select set_config('test.ann', tests.create_user('ann@funnels.test')::text, true);
select set_config('test.sam', tests.create_user('sam@funnels.test', true)::text, true);

-- A visitor browses as device-f, signs up (Ann), signs in on the device, starts a trial that pays.
select tests.act_as('anon');
insert into public.events (event_type, anonymous_id, "timestamp")
values ('page_view', 'device-f', now() - interval '2 days');
select tests.clear_authentication();
update public.events set "timestamp" = now() - interval '1 day'
 where event_type = 'user_signup' and user_id = current_setting('test.ann')::uuid;
insert into public.events (event_type, user_id, anonymous_id, "timestamp")
values ('page_view', current_setting('test.ann')::uuid, 'device-f', now() - interval '20 hours');
insert into public.subscriptions (user_id, plan, status, amount_cents, started_at, trial_ends_at)
values (current_setting('test.ann')::uuid, 'pro', 'active', 4900, now() - interval '20 hours', now() - interval '1 hour');
select tests.clear_authentication();

select set_config('test.lead', (select steps::text from analytics.named_funnels() where name = 'lead-to-customer'), true);
select set_config('test.trial', (select steps::text from analytics.named_funnels() where name = 'trial-to-paid'), true);

-- ----------------------------------------------------------------- hygiene
select is(
  (select count(*) from pg_proc p
    where p.oid in ('analytics.funnel(jsonb,date,date,interval,text,integer)'::regprocedure,
                    'analytics.funnel_dropoffs(jsonb,date,date,interval,integer,integer)'::regprocedure,
                    'private.funnel_attempts(jsonb,date,date,interval,text,text)'::regprocedure)
      and not p.prosecdef and p.proconfig @> array['search_path=""']),
  3::bigint, 'the funnel functions run as the caller with an empty search_path');
select ok(
  (select c.reloptions @> array['security_invoker=true'] from pg_class c where c.oid = 'private.subscription_events'::regclass),
  'the subscription events view reads as the caller');
select ok(not has_function_privilege('public', 'analytics.funnel(jsonb,date,date,interval,text,integer)', 'execute'),
  'PUBLIC cannot execute analytics.funnel');
select ok(not has_function_privilege('anon', 'analytics.funnel_dropoffs(jsonb,date,date,interval,integer,integer)', 'execute'),
  'anon cannot execute analytics.funnel_dropoffs');

-- ----------------------------------------------------------------- the named funnels, as a superuser
select tests.authenticate_as(current_setting('test.sam')::uuid);
select results_eq(
  format($$select persons from analytics.funnel(%L::jsonb, current_date - 7, current_date, '30 days') where breakdown_rank = 0 order by step$$,
         current_setting('test.lead')),
  $$values (1::bigint), (1), (1)$$,
  'lead to customer: the anonymous visit, the signup and the first payment are one person');
select results_eq(
  format($$select persons from analytics.funnel(%L::jsonb, current_date - 7, current_date, '30 days') order by step$$,
         current_setting('test.trial')),
  $$values (1::bigint), (1)$$,
  'trial to paid: the trial and its payment come from public.subscriptions');
select is(
  (select median_seconds from analytics.funnel(current_setting('test.trial')::jsonb, current_date - 7, current_date, '30 days') where step = 2),
  (19 * 3600)::numeric(12, 3),
  'the time to pay is the trial''s length');
select is(
  (select count(*) from analytics.funnel(current_setting('test.trial')::jsonb, current_date - 7, current_date, '10 hours') where step = 2 and persons = 0),
  1::bigint, 'a payment after the conversion window does not count');
select is(
  (select anonymous_id from analytics.funnel_dropoffs('[{"event": "page_view"}, {"event": "goal_submitted"}]', current_date - 7, current_date)
    where person_id = current_setting('test.ann')),
  null, 'a dropped-off signed-in person is named by user id, not by an anonymous id');
select is(
  (select user_id::text from analytics.funnel_dropoffs('[{"event": "page_view"}, {"event": "goal_submitted"}]', current_date - 7, current_date)
    where person_id = current_setting('test.ann')),
  current_setting('test.ann'), 'the dropped-off person''s user id links to the explorer');

-- ----------------------------------------------------------------- access
select tests.act_as('analyst');
select is(
  (select persons from analytics.funnel(current_setting('test.lead')::jsonb, current_date - 7, current_date, '30 days') where step = 3),
  1::bigint, 'an analyst reads funnels');
select tests.authenticate_as(current_setting('test.ann')::uuid);
select is(
  (select sum(persons) from analytics.funnel(current_setting('test.lead')::jsonb, current_date - 7, current_date, '30 days')),
  0::numeric, 'a signed-in user who is not a superuser sees nobody in a funnel');
select is(
  (select sum(persons) from analytics.funnel(current_setting('test.trial')::jsonb, current_date - 7, current_date, '30 days')),
  0::numeric, 'not even their own subscription''s trial: persons need events the user cannot read');
select is(
  (select count(*) from analytics.funnel_dropoffs(current_setting('test.lead')::jsonb, current_date - 7, current_date)),
  0::bigint, 'nor anyone who dropped off');
select tests.act_as('anon');
select throws_ok(
  format($$select * from analytics.funnel(%L::jsonb, current_date - 7, current_date)$$, current_setting('test.lead')),
  '42501', null, 'an anonymous visitor cannot read funnels');
select throws_ok($$select * from analytics.named_funnels()$$, '42501', null,
  'an anonymous visitor cannot list the named funnels');
select tests.clear_authentication();

-- ----------------------------------------------------------------- bad arguments
select throws_ok(
  $$select * from analytics.funnel('[{"event": "a"}, {"event": "b"}]', current_date, current_date, '14 days', null, 0)$$,
  '22023', 'analytics.funnel: breakdown_top must be between 1 and 50, not 0',
  'a breakdown of no values is refused, naming breakdown_top');

select * from finish();
rollback;
