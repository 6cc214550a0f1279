-- Retention, lifecycle, stickiness and feature adoption: who may read them, the actor
-- bitmaps' access, and the functions' hygiene (security invoker, empty search_path).
begin;
select plan(28);
select tests.share_pgtap_tables();

select set_config('test.ann', tests.create_user('ann@reports.test')::text, true);
select set_config('test.sam', tests.create_user('sam@reports.test', true)::text, true);

-- Ann browses as device-r, signs in on it, comes back a week later; the nightly job closes it.
insert into public.events (event_type, anonymous_id, "timestamp")
values ('page_view', 'device-r', now() - interval '15 days');
insert into public.events (event_type, user_id, anonymous_id, "timestamp")
values ('feature_used', current_setting('test.ann')::uuid, 'device-r', now() - interval '14 days'),
       ('page_view', current_setting('test.ann')::uuid, null, now() - interval '7 days');
select is(analytics.run_daily_aggregation() > 0, true, 'the nightly job closes the days');

-- ----------------------------------------------------------------- hygiene
select is(
  (select count(*) from pg_proc p
    where p.oid in ('analytics.retention(date,integer,text,text,text)'::regprocedure,
                    'analytics.lifecycle(date,date,text,text)'::regprocedure,
                    'analytics.stickiness(date,date,text,text)'::regprocedure,
                    'analytics.feature_adoption(date,date,integer)'::regprocedure)
      and not p.prosecdef and p.proconfig @> array['search_path=""']),
  4::bigint, 'the four reports are security invoker with an empty search_path');
select is(
  (select count(*) from pg_proc p
    where p.oid in ('private.person_bits(text[],date,date,date,text,boolean)'::regprocedure,
                    'private.page_bits(integer[])'::regprocedure,
                    'private.zero_page()'::regprocedure)
      and not p.prosecdef),
  3::bigint, 'the helpers they call run as the caller too');
select ok(tests.rls_enabled('analytics'), 'row level security is on for every analytics table');
select ok(not has_function_privilege('authenticated', 'private.close_person_bits(date)', 'execute'),
  'no signed-in user can rewrite the person bitmaps');
select ok(not has_function_privilege('authenticated', 'private.apply_person_links()', 'execute'),
  'nor move links in them');
select ok(not has_function_privilege('authenticated', 'analytics.extend_person_bits(timestamptz)', 'execute'),
  'nor extend them through today');

-- ----------------------------------------------------------------- the nightly rollup
select is((select count(*)::int from analytics.person_day_bits b
             join analytics.person_ids i on i.person_id = current_setting('test.ann')
            where b.page = i.id / 32768 and get_bit(b.bits, i.id % 32768) = 1
              and b.day = (now() at time zone 'UTC')::date - 15),
  2, 'the nightly job puts device-r''s first day on Ann''s bit, for any event and for page_view');
select is((select count(*)::int from analytics.person_ids where person_id = 'device-r'), 0,
  'a linked device gets no number of its own');

-- ----------------------------------------------------------------- anon
select tests.act_as('anon');
select throws_ok($$select * from analytics.retention(current_date - 30)$$, '42501', null,
  'an anonymous visitor cannot run retention');
select throws_ok($$select * from analytics.lifecycle(current_date - 30, current_date)$$, '42501', null,
  'an anonymous visitor cannot run lifecycle');
select throws_ok($$select * from analytics.stickiness(current_date - 30, current_date)$$, '42501', null,
  'an anonymous visitor cannot run stickiness');
select throws_ok($$select * from analytics.feature_adoption(current_date - 30, current_date)$$, '42501', null,
  'an anonymous visitor cannot run feature adoption');
select throws_ok($$select * from analytics.person_day_bits$$, '42501', null,
  'an anonymous visitor cannot read the person bitmaps');

-- ----------------------------------------------------------------- an ordinary user
select tests.authenticate_as(current_setting('test.ann')::uuid);
select is((select sum(cohort_size)::int from analytics.retention(current_date - 30, 6, 'week', 'feature_used')
            where cohort_start is not null), 0,
  'an ordinary signed-in user finds no cohorts (RLS hides the events)');
select is((select count(*)::int from analytics.lifecycle(current_date - 30, current_date) where persons <> 0), 0,
  'nor anyone in the lifecycle');
select is((select count(*)::int from analytics.stickiness(current_date - 30, current_date) where persons <> 0), 0,
  'nor in stickiness');
select is((select count(*)::int from analytics.feature_adoption(current_date - 30, current_date)), 0,
  'nor any adopted feature');
select is((select count(*)::int from analytics.person_day_bits), 0, 'nor any person bitmap');
select is((select count(*)::int from analytics.person_ids), 0, 'nor any person number');

-- ----------------------------------------------------------------- a superuser
select tests.authenticate_as(current_setting('test.sam')::uuid);
select is(
  (select retained::int from analytics.retention(current_date - 21, 4, 'week', 'feature_used')
    where cohort_start = date_trunc('week', current_date - 14)::date and period_offset = 1),
  1,
  'a superuser sees Ann come back the week after her first feature use');
select is(
  (select persons::int from analytics.feature_adoption(current_date - 20, current_date - 1)
    where event_type = 'page_view'),
  1, 'a superuser sees one person behind device-r''s and Ann''s page views');
select is(
  (select sum(persons)::int from analytics.lifecycle(current_date - 20, current_date - 1, 'page_view')
    where status = 'new'),
  1, 'device-r''s first page view makes Ann new once, not twice');
select ok((select count(*) from analytics.stickiness(current_date - 20, current_date) where persons > 0) > 0,
  'a superuser sees stickiness');

-- ----------------------------------------------------------------- an analyst
select tests.act_as('analyst');
select is((select count(*)::int from analytics.feature_adoption(current_date - 20, current_date - 1)), 2,
  'an analyst sees adoption of both event types');
select ok((select count(*) from analytics.person_day_bits) > 0, 'an analyst reads the person bitmaps');
select throws_ok($$select * from analytics.lifecycle(current_date, current_date, bucket => 'year')$$,
  '22023', null, 'a bad bucket is 22023');
select throws_ok($$select * from analytics.retention(current_date, period => 'year')$$,
  '22023', 'analytics.retention: period must be day, week or month, not "year"',
  'the error names the argument');
select tests.clear_authentication();

select * from finish();
rollback;
