-- Plugin drains from the database: pg_cron calls Beacon's edge function through pg_net,
-- with the URL and secret read at run time (Vault, else beacon.settings), never stored in
-- the job. pg_net is played by a net.http_post that records what it was asked to send.
begin;
select plan(12);

select is(beacon.request_plugin_drain(), null,
  'unconfigured, a drain request sends nothing');
insert into beacon.settings (key, value) values
  ('drain_url', 'https://ref.supabase.co/functions/v1/beacon/'),
  ('drain_secret', 'test-drain-secret-0123456789');
select is(beacon.request_plugin_drain(), null,
  'without pg_net a drain request sends nothing');
select is(beacon.schedule_plugin_drain(), false,
  'without pg_net the drain is not scheduled');
select is((select count(*) from cron.job where jobname = 'beacon_plugin_drain'), 0::bigint,
  'so there is no beacon_plugin_drain job');

create schema net;
create table net.sent (url text, body jsonb, headers jsonb, timeout_milliseconds integer);
create function net.http_post(
  url text, body jsonb default '{}', params jsonb default '{}',
  headers jsonb default '{"Content-Type": "application/json"}', timeout_milliseconds integer default 5000
) returns bigint language sql as $$
  insert into net.sent values (url, body, headers, timeout_milliseconds);
  select count(*) from net.sent;
$$;

select is(beacon.request_plugin_drain(), 1::bigint,
  'with pg_net a drain request is sent, and pg_net''s request id returned');
select is((select url from net.sent), 'https://ref.supabase.co/functions/v1/beacon/api/v1/plugins/drain',
  'to the function''s drain endpoint');
select is((select headers ->> 'Authorization' from net.sent), 'Bearer test-drain-secret-0123456789',
  'with the drain secret as a bearer token');
select is(beacon.schedule_plugin_drain(), true,
  'with pg_cron and pg_net the drain is scheduled');
select is(
  (select schedule || ' | ' || command from cron.job where jobname = 'beacon_plugin_drain')::text collate "default",
  '* * * * * | select beacon.request_plugin_drain()',
  'every minute, by a job whose command holds neither the URL nor the secret');
select lives_ok('select beacon.schedule_plugin_drain()', 'scheduling again is harmless');
select is((select count(*) from cron.job where jobname = 'beacon_plugin_drain'), 1::bigint,
  'and leaves one job');
select ok(
  not has_function_privilege('anon', 'beacon.request_plugin_drain()', 'execute')
  and not has_function_privilege('authenticated', 'beacon.request_plugin_drain()', 'execute')
  and not has_function_privilege('service_role', 'beacon.request_plugin_drain()', 'execute')
  and not has_function_privilege('authenticated', 'beacon.schedule_plugin_drain()', 'execute'),
  'no API role can send or schedule drains');

select * from finish();
rollback;
