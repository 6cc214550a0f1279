begin;
select plan(3);
select tests.share_pgtap_tables();

select tests.act_as('anon');
select lives_ok(
  $$insert into public.events (event_type, anonymous_id) values ('page_view', 'visitor-1')$$,
  'an anonymous visitor can record an anonymous event'
);
select throws_ok(
  $$select count(*) from public.events$$,
  '42501', null,
  'an anonymous visitor cannot read events'
);
select tests.clear_authentication();
select is((select count(*) from public.events where anonymous_id = 'visitor-1'), 1::bigint, 'the anonymous event was stored');

select * from finish();
rollback;
