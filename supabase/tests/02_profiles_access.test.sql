-- Who may do what on public.profiles: every role and operation.
begin;
select plan(25);
select tests.share_pgtap_tables();

select set_config('test.alice', tests.create_user('alice@profiles.test')::text, true);
select set_config('test.bob', tests.create_user('bob@profiles.test')::text, true);
select set_config('test.sam', tests.create_user('sam@profiles.test', true)::text, true);
select set_config('test.total', (select count(*) from public.profiles)::text, true);

-- ----------------------------------------------------------------------------- select
select tests.act_as('anon');
select throws_ok($$select count(*) from public.profiles$$, '42501', null, 'an anonymous visitor cannot read profiles');
select tests.authenticate_as(current_setting('test.alice')::uuid);
select results_eq($$select id::text from public.profiles$$, array[current_setting('test.alice')],
  'a signed-in user reads their own profile and no other');
select is((select count(*) from public.profiles where id = current_setting('test.bob')::uuid), 0::bigint,
  'a signed-in user cannot read another user''s profile');
select tests.authenticate_as(current_setting('test.sam')::uuid);
select is((select count(*)::text from public.profiles), current_setting('test.total'), 'a superuser reads every profile');
select tests.act_as('analyst');
select is((select count(*)::text from public.profiles), current_setting('test.total'), 'an analyst reads every profile');
select tests.act_as('service_role');
select is((select count(*)::text from public.profiles), current_setting('test.total'), 'the service role reads every profile');

-- ----------------------------------------------------------------------------- insert
select tests.clear_authentication();
select set_config('test.carol', tests.create_user('carol@profiles.test')::text, true);
delete from public.profiles where id = current_setting('test.carol')::uuid;
select tests.act_as('anon');
select throws_ok(format($$insert into public.profiles (id) values (%L)$$, current_setting('test.carol')), '42501', null,
  'an anonymous visitor cannot create profiles');
select tests.authenticate_as(current_setting('test.carol')::uuid);
select throws_ok(format($$insert into public.profiles (id) values (%L)$$, current_setting('test.carol')), '42501', null,
  'a signed-in user cannot create a profile, not even their own');
select tests.authenticate_as(current_setting('test.sam')::uuid);
select throws_ok(format($$insert into public.profiles (id) values (%L)$$, current_setting('test.carol')), '42501', null,
  'a superuser cannot create profiles');
select tests.act_as('analyst');
select throws_ok(format($$insert into public.profiles (id) values (%L)$$, current_setting('test.carol')), '42501', null,
  'an analyst cannot create profiles');
select tests.act_as('service_role');
select lives_ok(format($$insert into public.profiles (id) values (%L)$$, current_setting('test.carol')),
  'the service role can create profiles');

-- ----------------------------------------------------------------------------- update
select tests.act_as('anon');
select throws_ok($$update public.profiles set display_name = 'x'$$, '42501', null, 'an anonymous visitor cannot update profiles');
select tests.authenticate_as(current_setting('test.alice')::uuid);
select lives_ok(format($$update public.profiles set display_name = 'Alice' where id = %L$$, current_setting('test.alice')),
  'a signed-in user can rename themselves');
select throws_ok(format($$update public.profiles set is_superuser = true where id = %L$$, current_setting('test.alice')),
  '42501', null, 'a signed-in user cannot make themselves a superuser');
select lives_ok(format($$update public.profiles set display_name = 'Hacked' where id = %L$$, current_setting('test.bob')),
  'updating another user''s profile runs ...');
select tests.authenticate_as(current_setting('test.sam')::uuid);
select throws_ok(format($$update public.profiles set is_superuser = true where id = %L$$, current_setting('test.bob')),
  '42501', null, 'a superuser cannot make anyone else a superuser');
select tests.act_as('analyst');
select throws_ok($$update public.profiles set display_name = 'x'$$, '42501', null, 'an analyst cannot update profiles');
select tests.act_as('service_role');
select lives_ok(format($$update public.profiles set is_superuser = true where id = %L$$, current_setting('test.bob')),
  'the service role can make a user a superuser');
select tests.clear_authentication();
select results_eq(
  format($$select display_name, is_superuser from public.profiles where id in (%L, %L) order by display_name nulls last$$,
         current_setting('test.alice'), current_setting('test.bob')),
  $$values ('Alice'::text, false), (null::text, true)$$,
  '... but changes nothing: only the own rename and the service role''s promotion took effect');

-- ----------------------------------------------------------------------------- delete
select tests.act_as('anon');
select throws_ok($$delete from public.profiles$$, '42501', null, 'an anonymous visitor cannot delete profiles');
select tests.authenticate_as(current_setting('test.alice')::uuid);
select throws_ok(format($$delete from public.profiles where id = %L$$, current_setting('test.alice')), '42501', null,
  'a signed-in user cannot delete their own profile');
select throws_ok(format($$delete from public.profiles where id = %L$$, current_setting('test.bob')), '42501', null,
  'a signed-in user cannot delete another user''s profile');
select tests.authenticate_as(current_setting('test.sam')::uuid);
select throws_ok($$delete from public.profiles$$, '42501', null, 'a superuser cannot delete profiles');
select tests.act_as('analyst');
select throws_ok($$delete from public.profiles$$, '42501', null, 'an analyst cannot delete profiles');

select tests.act_as('service_role');
select lives_ok(format($$delete from public.profiles where id = %L$$, current_setting('test.carol')),
  'the service role can delete profiles');

select * from finish();
rollback;
