-- The sign-in lockout in the database (private.sign_in_failures and its functions): only
-- service_role (and the owner, Beacon's server) may count, forget and clear attempts; the
-- limits per account and per address hold, the window frees them, nothing refused is
-- counted, a success clears the account but not the address, and keys are kept hashed.
begin;
select plan(30);
select tests.share_pgtap_tables();

-- Several attempts, one call each (a function in FROM would be called once and its row reused).
-- The account may be a format() pattern, given the attempt's number modulo 5.
create function pg_temp.attempts(account text, address text, times integer, account_max integer default 5)
returns table (n integer, attempt uuid, retry_after_ms integer)
language plpgsql
as $$
begin
  for i in 1 .. times loop
    return query select i, a.attempt, a.retry_after_ms
      from private.begin_sign_in_attempt(format(account, i % 5), address, account_max, 20, 900000) a;
  end loop;
end
$$;

-- ----------------------------------------------------------------- access
select ok((select relrowsecurity from pg_class where oid = 'private.sign_in_failures'::regclass),
  'row level security is on for the sign-in failures');
select is(
  array(select r || ' ' || p from unnest(array['anon', 'authenticated', 'service_role', 'analyst']) r
          cross join unnest(array['select', 'insert', 'update', 'delete']) p
         where has_table_privilege(r, 'private.sign_in_failures', p)
         order by 1),
  array[]::text[],
  'no API role holds a privilege on the table: it is written through the functions only');
select is(
  array(select format('%s %s', r, f) from unnest(array['public', 'anon', 'authenticated', 'analyst', 'service_role']) r
          cross join unnest(array['private.begin_sign_in_attempt(text,text,integer,integer,integer)',
                                  'private.forget_sign_in_attempt(uuid)',
                                  'private.clear_sign_in_failures(text,uuid)',
                                  'private.sign_in_wait_ms(text,bytea,integer,integer,timestamptz)']) f
         where (r = 'public' and exists (select 1 from pg_proc p, aclexplode(coalesce(p.proacl, acldefault('f', p.proowner))) a
                                          where p.oid = f::regprocedure and a.grantee = 0 and a.privilege_type = 'EXECUTE'))
            or (r <> 'public' and has_function_privilege(r, f, 'execute'))
         order by 1),
  array['service_role private.begin_sign_in_attempt(text,text,integer,integer,integer)',
        'service_role private.clear_sign_in_failures(text,uuid)',
        'service_role private.forget_sign_in_attempt(uuid)'],
  'only service_role may execute the three entry points, and nobody the helper');
select is(
  array(select p.proname::text from pg_proc p
         where p.oid in ('private.begin_sign_in_attempt(text,text,integer,integer,integer)'::regprocedure,
                         'private.forget_sign_in_attempt(uuid)'::regprocedure,
                         'private.clear_sign_in_failures(text,uuid)'::regprocedure)
           and p.prosecdef and p.proconfig @> array['search_path=""']
         order by 1),
  array['begin_sign_in_attempt', 'clear_sign_in_failures', 'forget_sign_in_attempt'],
  'the entry points are security definer with an empty search_path');

select tests.act_as('anon');
select throws_ok($$select * from private.begin_sign_in_attempt('a@lockout.test', '192.0.2.1')$$, '42501', null,
  'an anonymous visitor cannot count attempts');
select tests.clear_authentication();
select set_config('test.ann', tests.create_user('ann@lockout.test')::text, true);
select tests.authenticate_as(current_setting('test.ann')::uuid);
select throws_ok($$select * from private.begin_sign_in_attempt('a@lockout.test', '192.0.2.1')$$, '42501', null,
  'a signed-in user cannot count attempts');
select throws_ok($$select private.clear_sign_in_failures('a@lockout.test', gen_random_uuid())$$, '42501', null,
  'nor clear an account''s failures');
select tests.clear_authentication();
select tests.act_as('analyst');
select throws_ok($$select private.forget_sign_in_attempt(gen_random_uuid())$$, '42501', null,
  'nor may an analyst forget attempts');
select tests.clear_authentication();

-- ----------------------------------------------------------------- the account limit
select tests.act_as('service_role');
create temporary table attempts as
select n, attempt, retry_after_ms as wait from pg_temp.attempts('ann@lockout.test', '192.0.2.1', 6);
select is((select count(*)::int from attempts where attempt is not null and wait = 0), 5,
  'service_role counts five attempts for an account: they go ahead');
select ok((select attempt is null and wait between 899000 and 900000 from attempts where n = 6),
  'the sixth is refused with the rest of the 15-minute window to wait');
select throws_ok($$select * from private.sign_in_failures$$, '42501', null,
  'service_role cannot read the counts themselves');
select tests.clear_authentication();
select is((select count(*)::int from private.sign_in_failures
            where kind = 'account' and key = sha256(convert_to('ann@lockout.test', 'UTF8'))),
  5, 'a refused attempt is not counted');
select is((select count(*)::int from private.sign_in_failures
            where position(convert_to('lockout.test', 'UTF8') in key) > 0
               or position(convert_to('192.0.2.1', 'UTF8') in key) > 0),
  0, 'accounts and addresses are kept as SHA-256, never as typed');
select ok((select attempt is null from private.begin_sign_in_attempt('ann@lockout.test', '198.51.100.99')),
  'the account stays locked from another address');

-- The window: the attempt that keeps the account at the limit decides the wait.
update private.sign_in_failures set attempted_at = attempted_at - interval '10 minutes'
 where kind = 'account' and key = sha256(convert_to('ann@lockout.test', 'UTF8'));
select ok((select retry_after_ms between 290000 and 300000
             from private.begin_sign_in_attempt('ann@lockout.test', '192.0.2.1')),
  'ten minutes later the wait is the five minutes left of the window');
update private.sign_in_failures set attempted_at = attempted_at - interval '5 minutes 1 second'
 where kind = 'account' and key = sha256(convert_to('ann@lockout.test', 'UTF8'));
select ok((select attempt is not null from private.begin_sign_in_attempt('ann@lockout.test', '192.0.2.1')),
  'once the window has passed the account may try again');
select is((select count(*)::int from private.sign_in_failures
            where kind = 'account' and key = sha256(convert_to('ann@lockout.test', 'UTF8'))),
  1, 'and its attempts older than the window are pruned');

insert into private.sign_in_failures (attempt, kind, key, attempted_at)
values ('00000000-0000-4000-8000-00000000dead', 'account', sha256(convert_to('gone@lockout.test', 'UTF8')),
        now() - interval '1 hour');
select ok((select attempt is not null from private.begin_sign_in_attempt('someone@lockout.test', '192.0.2.2')),
  'an attempt of another account goes ahead');
select is((select count(*)::int from private.sign_in_failures where attempt = '00000000-0000-4000-8000-00000000dead'),
  0, 'and prunes other keys'' rows older than the window too');

-- ----------------------------------------------------------------- the address limit
select is((select count(*)::int from pg_temp.attempts('user%s@spread.test', '203.0.113.7', 20)
            where attempt is not null),
  20, 'twenty attempts from one address, spread over five accounts, go ahead');
select ok((select attempt is null and retry_after_ms > 0
             from private.begin_sign_in_attempt('fresh@spread.test', '203.0.113.7')),
  'the twenty-first from that address is refused, even for a fresh account');
select is((select count(*)::int from private.sign_in_failures
            where kind = 'account' and key = sha256(convert_to('fresh@spread.test', 'UTF8'))),
  0, 'and the fresh account is not counted for it');
select ok((select attempt is not null from private.begin_sign_in_attempt('fresh@spread.test', '203.0.113.8')),
  'another address may still try that account');

-- ----------------------------------------------------------------- forget and clear
select set_config('test.bob', (select string_agg(attempt::text, ',' order by n)
  from pg_temp.attempts('bob@lockout.test', '192.0.2.50', 5)), true);
select ok((select attempt is null from private.begin_sign_in_attempt('bob@lockout.test', '192.0.2.50')),
  'bob is at the limit');
select private.forget_sign_in_attempt(split_part(current_setting('test.bob'), ',', 5)::uuid);
select ok((select attempt is not null from private.begin_sign_in_attempt('bob@lockout.test', '192.0.2.50')),
  'a forgotten attempt (no answer about the password) frees its slot');

select set_config('test.carol', (select string_agg(attempt::text, ',' order by n)
  from pg_temp.attempts('carol@lockout.test', '192.0.2.60', 4)), true);
select private.clear_sign_in_failures('carol@lockout.test', split_part(current_setting('test.carol'), ',', 4)::uuid);
select is((select count(*)::int from private.sign_in_failures
            where kind = 'account' and key = sha256(convert_to('carol@lockout.test', 'UTF8'))),
  0, 'a success clears the account''s failures');
select is((select count(*)::int from private.sign_in_failures
            where kind = 'address' and key = sha256(convert_to('192.0.2.60', 'UTF8'))),
  3, 'but the address keeps its earlier failures, less the attempt that succeeded');

-- ----------------------------------------------------------------- limits and bad input
select is((select array_agg(attempt is not null order by n)
             from pg_temp.attempts('dan@lockout.test', '192.0.2.70', 3, 2)),
  array[true, true, false], 'the caller''s limits are honoured (two per account here)');
select throws_ok($$select * from private.begin_sign_in_attempt(null, '192.0.2.1')$$, '22023', null,
  'an attempt without an account is refused');
select throws_ok($$select * from private.begin_sign_in_attempt('a@b.test', '192.0.2.1', 0)$$, '22023', null,
  'a limit below one is refused');

select * from finish();
rollback;
