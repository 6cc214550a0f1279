-- =======================================================================================
-- Beacon demo data: 90 days of a small SaaS product
-- =======================================================================================
-- One superuser (admin@beacon.local, password beacon-demo), 400 users signing up over 90
-- days, most after anonymous visits on a device they later sign in on (linked persons),
-- about 50,000 events of several types (signed-in and anonymous), and subscriptions
-- with trials, plan upgrades, past-due accounts and churn. Everything is relative to now(),
-- so the charts always end today. Run once on an empty database (supabase db reset does).

select setseed(0.42);

-- ---------------------------------------------------------------------------------------
-- People
-- ---------------------------------------------------------------------------------------
insert into auth.users (
  instance_id, id, aud, role, email, encrypted_password, email_confirmed_at,
  raw_app_meta_data, raw_user_meta_data, created_at, updated_at
)
values (
  '00000000-0000-0000-0000-000000000000', '00000000-0000-4000-8000-000000000001',
  'authenticated', 'authenticated', 'admin@beacon.local',
  extensions.crypt('beacon-demo', extensions.gen_salt('bf')), now() - interval '91 days',
  '{"provider": "email", "providers": ["email"]}', '{}', now() - interval '91 days', now()
);
update public.profiles
   set is_superuser = true, display_name = 'Beacon Admin'
 where id = '00000000-0000-4000-8000-000000000001';

-- Signups grow over time: more of them in recent weeks.
insert into auth.users (
  instance_id, id, aud, role, email, encrypted_password, email_confirmed_at,
  raw_app_meta_data, raw_user_meta_data, created_at, updated_at
)
select '00000000-0000-0000-0000-000000000000', gen_random_uuid(), 'authenticated', 'authenticated',
       format('user%s@example.com', i), null, t,
       jsonb_build_object('provider', (array['email', 'email', 'google', 'github'])[1 + floor(random() * 4)::int]),
       jsonb_build_object('name', format('Demo User %s', i)), t, t
  from (
    select i, now() - (90 * 86400 * power(random(), 0.8)) * interval '1 second' as t
      from generate_series(1, 400) as i
  ) as signups;

-- ---------------------------------------------------------------------------------------
-- Events of signed-in users: each active day has a handful of events; engagement fades
-- with time since signup, faster for some users than for others.
-- ---------------------------------------------------------------------------------------
insert into public.events (event_type, user_id, payload, "timestamp")
select kind,
       user_id,
       case kind
         when 'page_view' then jsonb_build_object('path', (array['/', '/dashboard', '/pricing', '/docs', '/settings'])[1 + floor(random() * 5)::int])
         when 'feature_used' then jsonb_build_object('feature', (array['reports', 'export', 'integrations', 'alerts'])[1 + floor(random() * 4)::int])
         when 'goal_submitted' then jsonb_build_object('goal_id', floor(random() * 1000)::int, 'target', round((random() * 100)::numeric, 1))
         when 'button_click' then jsonb_build_object('button', (array['save', 'share', 'invite', 'upgrade'])[1 + floor(random() * 4)::int])
         else jsonb_build_object('plan', (array['starter', 'pro', 'business'])[1 + floor(random() * 3)::int])
       end,
       greatest(
         signed_up,
         day::timestamp at time zone 'UTC'
           + random() * least(interval '24 hours', now() - day::timestamp at time zone 'UTC')
       )
  from (
    select active.user_id, active.signed_up, active.day,
           (array['page_view', 'page_view', 'page_view', 'page_view', 'feature_used', 'feature_used',
                  'button_click', 'goal_submitted', 'checkout_started'])[1 + floor(random() * 9)::int] as kind
      from (
        select u.id as user_id, u.created_at as signed_up, d.day
          from (
            select id, created_at, 0.25 + random() * 0.6 as engagement, 15 + random() * 60 as half_life
              from auth.users
             where email like 'user%@example.com'
          ) as u
          cross join lateral (
            select (u.created_at at time zone 'UTC')::date + g.i as day
              from generate_series(0, (now() at time zone 'UTC')::date - (u.created_at at time zone 'UTC')::date) as g (i)
          ) as d
         where random() < 0.01 + u.engagement * exp(-(d.day - (u.created_at at time zone 'UTC')::date) / u.half_life)
      ) as active
      cross join lateral generate_series(1, 1 + floor(random() * 9)::int) as n
  ) as generated;

-- Anonymous visitors on the marketing site.
insert into public.events (event_type, anonymous_id, payload, "timestamp")
select (array['page_view', 'page_view', 'page_view', 'button_click'])[1 + floor(random() * 4)::int],
       format('anon-%s', floor(random() * 4000)::int),
       jsonb_build_object('path', (array['/', '/pricing', '/blog', '/docs'])[1 + floor(random() * 4)::int]),
       now() - random() * interval '90 days'
  from generate_series(1, 15000);

-- Leads: most users first came as anonymous visitors (from an ad, the newsletter, ...) in
-- the days before signing up, then signed in on the same device, which links the anonymous
-- id to them (analytics.person_links); some came back anonymously on it later. The funnel
-- "lead to customer" starts here.
insert into public.events (event_type, user_id, anonymous_id, payload, "timestamp")
select v.kind, v.user_id, v.anonymous_id, v.payload, v.at
  from (
    select u.id, u.created_at, 'visitor-' || u.n as device,
           (array['google', 'google', 'newsletter', 'twitter', 'direct'])[1 + floor(random() * 5)::int] as source
      from (select id, created_at, row_number() over (order by created_at) as n
              from auth.users where email like 'user%@example.com') as u
     where random() < 0.7
  ) as l
  cross join lateral (
    -- Visits before the signup.
    select 'page_view' as kind, null::uuid as user_id, l.device as anonymous_id,
           jsonb_build_object('path', (array['/', '/pricing', '/blog', '/docs'])[1 + floor(random() * 4)::int],
                              'utm_source', l.source) as payload,
           l.created_at - (0.02 + random() * 10) * interval '1 day' as at
      from generate_series(1, 1 + floor(random() * 5)::int)
    union all
    -- Signed in on the same device: the link.
    select 'page_view', l.id, l.device, jsonb_build_object('path', '/dashboard'),
           least(now(), l.created_at + random() * interval '10 minutes')
    union all
    -- Now and then back on the device without signing in.
    select 'page_view', null, l.device, jsonb_build_object('path', '/blog'),
           least(now(), l.created_at + random() * interval '20 days')
      from generate_series(1, floor(random() * 3)::int)
  ) as v;

-- ---------------------------------------------------------------------------------------
-- Subscriptions: about a third of users subscribe; some start with a 14-day trial (a third of
-- trials are canceled before paying: the funnel "trial to paid"), some upgrade
-- from starter to pro (one row ends as the next begins), some churn, a few are past due.
-- ---------------------------------------------------------------------------------------
do $seed$
declare
  u record;
  plan_name text;
  price bigint;
  yearly boolean;
  started timestamptz;
  trial_end timestamptz;
  paying_from timestamptz;
  upgrade_at timestamptz;
  churn_at timestamptz;
begin
  for u in
    select id, created_at from auth.users
     where email like 'user%@example.com' and random() < 0.35
     order by created_at
  loop
    started := u.created_at + (1 + random() * 10) * interval '1 day';
    continue when started > now();
    trial_end := case when random() < 0.45 then started + interval '14 days' end;
    paying_from := coalesce(trial_end, started);
    yearly := random() < 0.15;
    plan_name := case when random() < 0.55 then 'starter' when random() < 0.8 then 'pro' else 'business' end;
    price := case plan_name when 'starter' then 1900 when 'pro' then 4900 else 19900 end;
    if yearly then price := price * 10; end if;

    if trial_end is not null and trial_end > now() then
      insert into public.subscriptions (user_id, plan, status, amount_cents, billing_interval, started_at, trial_ends_at)
      values (u.id, plan_name, 'trialing', price, case when yearly then 'year' else 'month' end, started, trial_end);
      continue;
    end if;
    -- A third of trials end without paying: canceled during the trial.
    if trial_end is not null and random() < 0.35 then
      insert into public.subscriptions (user_id, plan, status, amount_cents, billing_interval, started_at, trial_ends_at, canceled_at)
      values (u.id, plan_name, 'canceled', price, case when yearly then 'year' else 'month' end, started, trial_end,
              started + random() * interval '13 days');
      continue;
    end if;

    upgrade_at := case when plan_name = 'starter' and random() < 0.4
                       then paying_from + (10 + random() * 30) * interval '1 day' end;
    if upgrade_at is not null and upgrade_at < now() then
      insert into public.subscriptions (user_id, plan, status, amount_cents, billing_interval, started_at, trial_ends_at, canceled_at)
      values (u.id, plan_name, 'canceled', price, case when yearly then 'year' else 'month' end, started, trial_end, upgrade_at);
      plan_name := 'pro';
      price := case when yearly then 49000 else 4900 end;
      started := upgrade_at;
      trial_end := null;
      paying_from := upgrade_at;
    end if;

    churn_at := case when random() < 0.25 then paying_from + (5 + random() * 55) * interval '1 day' end;
    if churn_at is not null and churn_at < now() then
      insert into public.subscriptions (user_id, plan, status, amount_cents, billing_interval, started_at, trial_ends_at, canceled_at)
      values (u.id, plan_name, 'canceled', price, case when yearly then 'year' else 'month' end, started, trial_end, churn_at);
    else
      insert into public.subscriptions (user_id, plan, status, amount_cents, billing_interval, started_at, trial_ends_at)
      values (u.id, plan_name, case when random() < 0.05 then 'past_due' else 'active' end, price,
              case when yearly then 'year' else 'month' end, started, trial_end);
    end if;
  end loop;
end
$seed$;

-- ---------------------------------------------------------------------------------------
-- Revenue movements (the /analytics/revenue page): downgrades, reactivations, late trial
-- conversions, and customers
-- paying in euros (with exchange rates that change) and a few in pounds (no rate: shown
-- apart). A plan change ends one row and starts the next at the same instant.
-- ---------------------------------------------------------------------------------------
do $revenue_seed$
declare
  s record;
  u record;
  at timestamptz;
  ends timestamptz;
  price bigint;
begin
  -- Downgrades: some pro and business customers move to starter.
  for s in
    select * from public.subscriptions
     where status in ('active', 'past_due') and plan in ('pro', 'business') and billing_interval = 'month'
       and private.paid_from(started_at, trial_ends_at) < now() - interval '20 days' and random() < 0.3
  loop
    at := private.paid_from(s.started_at, s.trial_ends_at)
          + random() * (now() - interval '2 days' - private.paid_from(s.started_at, s.trial_ends_at));
    update public.subscriptions set status = 'canceled', canceled_at = at where id = s.id;
    insert into public.subscriptions (user_id, plan, status, amount_cents, billing_interval, started_at)
    values (s.user_id, 'starter', 'active', 1900, 'month', at);
  end loop;

  -- Reactivations: half the churned customers come back 5 to 25 days later.
  for s in
    select distinct on (user_id) * from public.subscriptions c
     where c.status = 'canceled' and c.canceled_at > private.paid_from(c.started_at, c.trial_ends_at)
       and not exists (select 1 from public.subscriptions o where o.user_id = c.user_id and o.canceled_at is null)
     order by user_id, canceled_at desc
  loop
    at := s.canceled_at + (5 + random() * 20) * interval '1 day';
    continue when at > now() or random() < 0.5;
    insert into public.subscriptions (user_id, plan, status, amount_cents, billing_interval, started_at)
    values (s.user_id, s.plan, 'active', s.amount_cents, s.billing_interval, at);
  end loop;

  -- Late conversions: some trials canceled without paying start paying days after.
  for s in
    select distinct on (user_id) * from public.subscriptions c
     where c.status = 'canceled' and c.trial_ends_at is not null and c.canceled_at <= c.trial_ends_at
       and not exists (select 1 from public.subscriptions o where o.user_id = c.user_id and o.canceled_at is null)
     order by user_id, started_at
  loop
    at := s.trial_ends_at + (2 + random() * 15) * interval '1 day';
    continue when at > now() or random() < 0.6;
    insert into public.subscriptions (user_id, plan, status, amount_cents, billing_interval, started_at)
    values (s.user_id, s.plan, 'active', s.amount_cents, s.billing_interval, at);
  end loop;

  -- Customers in euros (and three in pounds) among those who never subscribed.
  for u in
    select id, created_at, row_number() over (order by created_at) as n from auth.users
     where email like 'user%@example.com'
       and not exists (select 1 from public.subscriptions x where x.user_id = auth.users.id)
       and random() < 0.2
  loop
    at := u.created_at + (1 + random() * 5) * interval '1 day';
    continue when at > now() - interval '1 day';
    price := case when random() < 0.6 then 1700 else 4500 end;
    if u.n % 10 = 0 and random() < 0.5 then
      insert into public.subscriptions (user_id, plan, status, amount_cents, currency, billing_interval, started_at)
      values (u.id, 'pro', 'active', 3900, 'GBP', 'month', at);
    elsif price = 1700 and random() < 0.4 and at < now() - interval '15 days' then
      -- An upgrade in euros.
      insert into public.subscriptions (user_id, plan, status, amount_cents, currency, billing_interval, started_at, canceled_at)
      values (u.id, 'starter', 'canceled', 1700, 'EUR', 'month', at, at + interval '12 days');
      insert into public.subscriptions (user_id, plan, status, amount_cents, currency, billing_interval, started_at)
      values (u.id, 'pro', 'active', 4500, 'EUR', 'month', at + interval '12 days');
    else
      ends := case when random() < 0.25 then at + (3 + random() * 40) * interval '1 day' end;
      if ends > now() then ends := null; end if;
      insert into public.subscriptions (user_id, plan, status, amount_cents, currency, billing_interval, started_at, canceled_at)
      values (u.id, case price when 1700 then 'starter' else 'pro' end,
              case when ends is null then 'active' else 'canceled' end, price, 'EUR', 'month', at, ends);
    end if;
  end loop;
end
$revenue_seed$;

insert into analytics.exchange_rates (currency, rate_to_reporting, valid_from)
values ('EUR', 1.08, current_date - 120), ('EUR', 1.10, current_date - 45), ('EUR', 1.07, current_date - 10);


-- =======================================================================================
-- Trends demo data: API calls and tasks with numeric properties
-- =======================================================================================
-- Signed-in users call the API (endpoint, method, status, duration_ms) and run tasks
-- (task_started, then mostly task_completed with its duration_ms). Some numbers arrive as
-- strings ("120"), as they do from real clients. A few properties are tracked, and the
-- past days closed once at the end, so the charts and the breakdowns by them read the rollup
-- from the start.
insert into public.events (event_type, user_id, payload, "timestamp")
select 'api_call', u.id,
       jsonb_build_object(
         'endpoint', (array['/v1/events', '/v1/events', '/v1/reports', '/v1/export', '/v1/users'])[1 + floor(random() * 5)::int],
         'method', (array['GET', 'GET', 'POST'])[1 + floor(random() * 3)::int],
         'status', (array[200, 200, 200, 200, 200, 201, 400, 404, 500])[1 + floor(random() * 9)::int],
         'duration_ms', case when random() < 0.1 then to_jsonb(ms::text) else to_jsonb(ms) end),
       u.created_at + random() * (now() - u.created_at)
  from auth.users u
 cross join lateral generate_series(1, floor(random() * 40 + 0 * extract(epoch from u.created_at))::int) as n
 cross join lateral (select round((15 + 600 * power(random(), 3) + n * 0)::numeric) as ms) as d
 where u.email like 'user%@example.com';

insert into public.events (event_type, user_id, payload, "timestamp")
select x.kind, x.user_id, x.payload, x.at
  from (
    select t.user_id, t.task, t.started_at, t.ms, t.completes
      from (
        select u.id as user_id, (array['import', 'export', 'report', 'sync'])[1 + floor(random() * 4)::int] as task,
               u.created_at + random() * (now() - u.created_at) as started_at,
               round((200 + 20000 * power(random(), 2) + n * 0)::numeric) as ms,
               random() < 0.75 as completes
          from auth.users u
         cross join lateral generate_series(1, floor(random() * 12 + 0 * extract(epoch from u.created_at))::int) as n
         where u.email like 'user%@example.com'
      ) as t
  ) as s
 cross join lateral (
   select 'task_started'::text as kind, s.user_id, jsonb_build_object('task', s.task) as payload, s.started_at as at
   union all
   select 'task_completed', s.user_id,
          jsonb_build_object('task', s.task, 'duration_ms', case when random() < 0.1 then to_jsonb(s.ms::text) else to_jsonb(s.ms) end),
          s.started_at + s.ms * interval '1 millisecond'
    where s.completes and s.started_at + s.ms * interval '1 millisecond' <= now()
 ) as x;

insert into analytics.tracked_properties (event_type, property)
values ('api_call', 'endpoint'), ('task_started', 'task'), ('task_completed', 'task');
-- Close every past day (once: a first start loads this in one transaction, so an earlier
-- run would only be redone here).
select analytics.run_daily_aggregation();
