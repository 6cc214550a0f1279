-- =======================================================================================
-- Subscriptions: what each user pays
-- =======================================================================================

create table public.subscriptions (
  id uuid primary key default gen_random_uuid(),
  user_id uuid not null references auth.users (id) on delete cascade,
  plan text not null check (char_length(plan) between 1 and 100),
  status text not null default 'active'
    check (status in ('trialing', 'active', 'past_due', 'canceled')),
  amount_cents bigint not null check (amount_cents >= 0),
  currency text not null default 'USD' check (currency ~ '^[A-Z]{3}$'),
  billing_interval text not null default 'month' check (billing_interval in ('month', 'year')),
  started_at timestamptz not null default now(),
  trial_ends_at timestamptz,
  canceled_at timestamptz,
  created_at timestamptz not null default now(),
  constraint subscriptions_cancel_after_start check (canceled_at is null or canceled_at >= started_at),
  constraint subscriptions_canceled_has_date check (status <> 'canceled' or canceled_at is not null)
);
comment on table public.subscriptions is
  'Beacon: one row per subscription. A plan change ends one row (canceled_at) and starts another at the same instant.';
comment on column public.subscriptions.user_id is 'Who pays.';
comment on column public.subscriptions.plan is 'The plan''s name, e.g. pro.';
comment on column public.subscriptions.status is 'trialing, active, past_due or canceled.';
comment on column public.subscriptions.amount_cents is 'Price per billing interval, in the currency''s minor unit.';
comment on column public.subscriptions.currency is 'ISO 4217 code, upper case. MRR figures count USD only.';
comment on column public.subscriptions.billing_interval is 'month or year (a year counts as amount/12 in MRR).';
comment on column public.subscriptions.started_at is 'When the subscription started (the trial start, if any).';
comment on column public.subscriptions.trial_ends_at is 'When a trial ends and paying begins; null without a trial.';
comment on column public.subscriptions.canceled_at is 'When it ended (or will end); null while it runs.';

create index subscriptions_user_id_idx on public.subscriptions (user_id);

revoke all on table public.subscriptions from public, anon, authenticated, service_role, analyst;
grant select on table public.subscriptions to authenticated, analyst;
grant select, insert, update, delete on table public.subscriptions to service_role;

alter table public.subscriptions enable row level security;

create policy "Users can read their own subscriptions"
  on public.subscriptions for select to authenticated
  using (user_id = (select auth.uid()));

create policy "Superusers can read every subscription"
  on public.subscriptions for select to authenticated
  using ((select private.is_superuser()));

create policy "Analysts can read every subscription"
  on public.subscriptions for select to analyst
  using (true);
