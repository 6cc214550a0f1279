-- =======================================================================================
-- Revenue in one reporting currency: the setting and the exchange rates
-- =======================================================================================
-- Revenue reports (analytics.mrr_movements, analytics.revenue_churn) add up subscriptions
-- in one reporting currency, USD unless a superuser changes analytics.revenue_settings.
-- A subscription in another currency counts at the rate valid on the day reported
-- (analytics.exchange_rates: the latest row whose valid_from is on or before that day).
-- A currency with no rate valid yet is not converted and not dropped: the reports show its
-- amount apart, in its own currency. The reporting currency itself always counts at 1.
--
-- analytics.summary()'s mrr_estimate_usd is unchanged: it counts USD subscriptions, in
-- USD, whatever the reporting currency (its contract since the first release).
--
-- Who may write: superusers (through RLS, e.g. from the dashboard) and service_role (a
-- server job loading rates). Superusers and analysts read; ordinary users see nothing.

-- ---------------------------------------------------------------------------------------
-- analytics.revenue_settings: one row
-- ---------------------------------------------------------------------------------------
create table analytics.revenue_settings (
  singleton boolean primary key default true check (singleton),
  reporting_currency text not null default 'USD' check (reporting_currency ~ '^[A-Z]{3}$'),
  updated_at timestamptz not null default now()
);
comment on table analytics.revenue_settings is
  'Beacon: revenue report settings, one row. The reporting currency the revenue reports convert to (exchange_rates are relative to it).';
comment on column analytics.revenue_settings.singleton is 'Always true: the table holds one row.';
comment on column analytics.revenue_settings.reporting_currency is
  'ISO 4217 code the revenue reports are in (USD by default). Changing it means the rates must be relative to the new currency.';
comment on column analytics.revenue_settings.updated_at is 'When the setting last changed.';
insert into analytics.revenue_settings (singleton) values (true);

revoke all on table analytics.revenue_settings from public, anon, authenticated, service_role, analyst;
grant select, update on table analytics.revenue_settings to authenticated;
grant select, update on table analytics.revenue_settings to service_role;
grant select on table analytics.revenue_settings to analyst;
alter table analytics.revenue_settings enable row level security;

create policy "Superusers can read the revenue settings"
  on analytics.revenue_settings for select to authenticated
  using ((select private.is_superuser()));
create policy "Superusers can change the revenue settings"
  on analytics.revenue_settings for update to authenticated
  using ((select private.is_superuser()))
  with check ((select private.is_superuser()));
create policy "Analysts can read the revenue settings"
  on analytics.revenue_settings for select to analyst
  using (true);

-- ---------------------------------------------------------------------------------------
-- analytics.exchange_rates
-- ---------------------------------------------------------------------------------------
create table analytics.exchange_rates (
  currency text not null check (currency ~ '^[A-Z]{3}$'),
  rate_to_reporting numeric not null check (rate_to_reporting > 0 and rate_to_reporting < 1000000),
  valid_from date not null,
  created_at timestamptz not null default now(),
  primary key (currency, valid_from)
);
comment on table analytics.exchange_rates is
  'Beacon: exchange rates to the reporting currency (analytics.revenue_settings). A rate holds from valid_from (a UTC day) until the next row of the same currency. Written by superusers and service_role.';
comment on column analytics.exchange_rates.currency is 'ISO 4217 code, upper case, as in public.subscriptions.currency.';
comment on column analytics.exchange_rates.rate_to_reporting is
  'How much one unit of the currency is worth in the reporting currency (e.g. EUR 1.08 when reporting in USD).';
comment on column analytics.exchange_rates.valid_from is 'The first UTC day the rate applies to.';
comment on column analytics.exchange_rates.created_at is 'When the row was written.';

revoke all on table analytics.exchange_rates from public, anon, authenticated, service_role, analyst;
grant select, insert, update, delete on table analytics.exchange_rates to authenticated, service_role;
grant select on table analytics.exchange_rates to analyst;
alter table analytics.exchange_rates enable row level security;

create policy "Superusers can read exchange rates"
  on analytics.exchange_rates for select to authenticated
  using ((select private.is_superuser()));
create policy "Superusers can add exchange rates"
  on analytics.exchange_rates for insert to authenticated
  with check ((select private.is_superuser()));
create policy "Superusers can change exchange rates"
  on analytics.exchange_rates for update to authenticated
  using ((select private.is_superuser()))
  with check ((select private.is_superuser()));
create policy "Superusers can remove exchange rates"
  on analytics.exchange_rates for delete to authenticated
  using ((select private.is_superuser()));
create policy "Analysts can read exchange rates"
  on analytics.exchange_rates for select to analyst
  using (true);

-- ---------------------------------------------------------------------------------------
-- private.reporting_currency(): the setting as the caller reads it (USD when unseen)
-- ---------------------------------------------------------------------------------------
create function private.reporting_currency()
returns text
language sql
stable
set search_path = ''
as $$
  select coalesce((select s.reporting_currency from analytics.revenue_settings s limit 1), 'USD')
$$;
comment on function private.reporting_currency() is
  'The reporting currency of the revenue reports (analytics.revenue_settings), USD when unset or unseen. As the caller.';
revoke all on function private.reporting_currency() from public, anon, authenticated, service_role;
grant execute on function private.reporting_currency() to authenticated, service_role, analyst;
