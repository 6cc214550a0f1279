-- Who may do what on public.subscriptions: every role and operation.
begin;
select plan(26);
select tests.share_pgtap_tables();

select set_config('test.alice', tests.create_user('alice@subs.test')::text, true);
select set_config('test.bob', tests.create_user('bob@subs.test')::text, true);
select set_config('test.sam', tests.create_user('sam@subs.test', true)::text, true);
insert into public.subscriptions (user_id, plan, amount_cents)
values (current_setting('test.alice')::uuid, 'pro', 4900), (current_setting('test.bob')::uuid, 'starter', 1900);
select set_config('test.total', (select count(*) from public.subscriptions)::text, true);

-- ----------------------------------------------------------------------------- select
select tests.act_as('anon');
select throws_ok($$select count(*) from public.subscriptions$$, '42501', null, 'an anonymous visitor cannot read subscriptions');
select tests.authenticate_as(current_setting('test.alice')::uuid);
select results_eq($$select plan from public.subscriptions$$, array['pro'],
  'a signed-in user reads their own subscriptions');
select is((select count(*) from public.subscriptions where user_id = current_setting('test.bob')::uuid), 0::bigint,
  'a signed-in user cannot read another user''s subscriptions');
select tests.authenticate_as(current_setting('test.sam')::uuid);
select is((select count(*)::text from public.subscriptions), current_setting('test.total'), 'a superuser reads every subscription');
select tests.act_as('analyst');
select is((select count(*)::text from public.subscriptions), current_setting('test.total'), 'an analyst reads every subscription');
select tests.act_as('service_role');
select is((select count(*)::text from public.subscriptions), current_setting('test.total'), 'the service role reads every subscription');

-- ----------------------------------------------------------------------------- insert, update, delete
select tests.act_as('anon');
select throws_ok(format($$insert into public.subscriptions (user_id, plan, amount_cents) values (%L, 'free', 0)$$, current_setting('test.alice')),
  '42501', null, 'an anonymous visitor cannot create subscriptions');
select throws_ok($$update public.subscriptions set amount_cents = 0$$, '42501', null, 'an anonymous visitor cannot update subscriptions');
select throws_ok($$delete from public.subscriptions$$, '42501', null, 'an anonymous visitor cannot delete subscriptions');

select tests.authenticate_as(current_setting('test.alice')::uuid);
select throws_ok(format($$insert into public.subscriptions (user_id, plan, amount_cents) values (%L, 'free', 0)$$, current_setting('test.alice')),
  '42501', null, 'a signed-in user cannot create a subscription for themselves');
select throws_ok(format($$insert into public.subscriptions (user_id, plan, amount_cents) values (%L, 'free', 0)$$, current_setting('test.bob')),
  '42501', null, 'a signed-in user cannot create a subscription for another user');
select throws_ok(format($$update public.subscriptions set amount_cents = 0 where user_id = %L$$, current_setting('test.alice')),
  '42501', null, 'a signed-in user cannot change their own subscription');
select throws_ok(format($$update public.subscriptions set amount_cents = 0 where user_id = %L$$, current_setting('test.bob')),
  '42501', null, 'a signed-in user cannot change another user''s subscription');
select throws_ok(format($$delete from public.subscriptions where user_id = %L$$, current_setting('test.alice')),
  '42501', null, 'a signed-in user cannot delete their own subscription');
select throws_ok(format($$delete from public.subscriptions where user_id = %L$$, current_setting('test.bob')),
  '42501', null, 'a signed-in user cannot delete another user''s subscription');

select tests.authenticate_as(current_setting('test.sam')::uuid);
select throws_ok(format($$insert into public.subscriptions (user_id, plan, amount_cents) values (%L, 'free', 0)$$, current_setting('test.bob')),
  '42501', null, 'a superuser cannot create subscriptions');
select throws_ok($$update public.subscriptions set amount_cents = 0$$, '42501', null, 'a superuser cannot update subscriptions');
select throws_ok($$delete from public.subscriptions$$, '42501', null, 'a superuser cannot delete subscriptions');

select tests.act_as('analyst');
select throws_ok(format($$insert into public.subscriptions (user_id, plan, amount_cents) values (%L, 'free', 0)$$, current_setting('test.bob')),
  '42501', null, 'an analyst cannot create subscriptions');
select throws_ok($$update public.subscriptions set amount_cents = 0$$, '42501', null, 'an analyst cannot update subscriptions');
select throws_ok($$delete from public.subscriptions$$, '42501', null, 'an analyst cannot delete subscriptions');

select tests.act_as('service_role');
select lives_ok(format($$insert into public.subscriptions (user_id, plan, amount_cents) values (%L, 'business', 19900)$$, current_setting('test.bob')),
  'the service role (the billing integration) can create subscriptions');
select lives_ok(format($$update public.subscriptions set status = 'canceled', canceled_at = now() where user_id = %L and plan = 'starter'$$, current_setting('test.bob')),
  'the service role can update subscriptions');
select lives_ok(format($$delete from public.subscriptions where user_id = %L and plan = 'business'$$, current_setting('test.bob')),
  'the service role can delete subscriptions');
select tests.clear_authentication();
select results_eq(format($$select plan, status from public.subscriptions where user_id = %L$$, current_setting('test.bob')),
  $$values ('starter'::text, 'canceled'::text)$$, 'only the service role''s changes took effect');
select throws_ok(format($$insert into public.subscriptions (user_id, plan, amount_cents, status) values (%L, 'pro', 1, 'paused')$$, current_setting('test.bob')),
  '23514', null, 'a status outside trialing, active, past_due, canceled is refused');

select * from finish();
rollback;
