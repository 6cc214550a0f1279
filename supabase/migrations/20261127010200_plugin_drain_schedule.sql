-- =======================================================================================
-- Plugin drains from the database: pg_cron calls Beacon's edge function through pg_net
-- =======================================================================================
-- Where Beacon runs as a Supabase Edge Function there is no process to feed plugins; every
-- minute pg_cron asks the function for one bounded drain (POST <url>/api/v1/plugins/drain,
-- `Authorization: Bearer <secret>`). The URL and the secret are never in a migration: each
-- run reads them from Supabase Vault (secrets `beacon_drain_url`, the function's address such
-- as https://<ref>.supabase.co/functions/v1/beacon, and `beacon_drain_secret`), or else from
-- beacon.settings (keys `drain_url`, `drain_secret`). Unconfigured, a run does nothing and
-- says so in a notice.
--
-- Scheduled here only where pg_cron and pg_net both exist; elsewhere a notice says how to
-- schedule it later (`select beacon.schedule_plugin_drain();` once pg_net is enabled).
-- Beacon's long-lived server never needs this: it keeps its own delivery loop.

create function beacon.request_plugin_drain()
returns bigint
language plpgsql
volatile
security invoker
set search_path = ''
as $$
declare
  drain_url text;
  drain_secret text;
  request_id bigint;
begin
  if to_regclass('vault.decrypted_secrets') is not null then
    execute $q$
      select max(decrypted_secret) filter (where name = 'beacon_drain_url'),
             max(decrypted_secret) filter (where name = 'beacon_drain_secret')
        from vault.decrypted_secrets
       where name in ('beacon_drain_url', 'beacon_drain_secret')
    $q$ into drain_url, drain_secret;
  end if;
  drain_url := coalesce(drain_url, (select s.value from beacon.settings s where s.key = 'drain_url'));
  drain_secret := coalesce(drain_secret, (select s.value from beacon.settings s where s.key = 'drain_secret'));
  if drain_url is null or drain_secret is null then
    raise notice 'beacon plugin drain: not configured; store the function''s URL and the drain secret in Vault as beacon_drain_url and beacon_drain_secret';
    return null;
  end if;
  if not exists (select 1 from pg_catalog.pg_proc p
                  where p.pronamespace = to_regnamespace('net') and p.proname = 'http_post') then
    raise notice 'beacon plugin drain: pg_net is not installed; nothing was sent';
    return null;
  end if;
  execute 'select net.http_post(url := $1, body := $2, headers := $3, timeout_milliseconds := $4)'
     into request_id
    using pg_catalog.rtrim(drain_url, '/') || '/api/v1/plugins/drain',
          '{}'::jsonb,
          pg_catalog.jsonb_build_object('Authorization', 'Bearer ' || drain_secret,
                                        'Content-Type', 'application/json'),
          55000;
  return request_id;
end;
$$;
comment on function beacon.request_plugin_drain() is
  'Asks Beacon''s edge function for one plugin drain through pg_net (POST <beacon_drain_url>/api/v1/plugins/drain with the drain secret, both read from Vault or beacon.settings); returns pg_net''s request id, or null with a notice when unconfigured or without pg_net. Run every minute by pg_cron as job beacon_plugin_drain.';
revoke all on function beacon.request_plugin_drain() from public, anon, authenticated, service_role;

create function beacon.schedule_plugin_drain()
returns boolean
language plpgsql
volatile
security invoker
set search_path = ''
as $$
begin
  if not exists (select 1 from pg_catalog.pg_extension where extname = 'pg_cron') then
    raise notice 'beacon_plugin_drain is not scheduled: pg_cron is not installed';
    return false;
  end if;
  if not exists (select 1 from pg_catalog.pg_proc p
                  where p.pronamespace = to_regnamespace('net') and p.proname = 'http_post') then
    raise notice 'beacon_plugin_drain is not scheduled: pg_net is not installed (enable it, then select beacon.schedule_plugin_drain())';
    return false;
  end if;
  perform cron.schedule('beacon_plugin_drain', '* * * * *', 'select beacon.request_plugin_drain()');
  return true;
end;
$$;
comment on function beacon.schedule_plugin_drain() is
  'Schedules (by name, so again is harmless) the pg_cron job beacon_plugin_drain that calls beacon.request_plugin_drain() every minute; only where pg_cron and pg_net exist, otherwise a notice and false.';
revoke all on function beacon.schedule_plugin_drain() from public, anon, authenticated, service_role;

select beacon.schedule_plugin_drain();
