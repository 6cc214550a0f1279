-- =======================================================================================
-- Revenue: MRR movements, churn rates, trial conversion
-- =======================================================================================
-- What a plan change is. public.subscriptions has one row per subscription, and its table
-- comment already says how an app records a change: the old row ends (canceled_at) and a
-- new row starts at the same instant (started_at), for the same user_id, with the new plan,
-- amount, currency or interval. That is what a Supabase app writes naturally from a Stripe
-- webhook (customer.subscription.updated -> close the row, insert the next), existing rows
-- and apps keep working, and no new table is needed. So revenue is counted per CUSTOMER
-- (user_id), never per row: a row ending while another of the same user starts is a plan
-- change, not a churn and a new customer.
--
-- A subscription row pays at the end of UTC day d when private.paid_from(started_at,
-- trial_ends_at) < d + 1 and (canceled_at is null or canceled_at >= d + 1), and its status
-- is not 'trialing' (as private.paying_subscriptions, the active_subscriptions metric): so
-- it pays the end of the days [date(paid_from), date(canceled_at)). A trial pays nothing; a
-- trial canceled before it ends never pays; past_due still pays. Its monthly amount is
-- amount_cents, or amount_cents / 12 on a yearly interval (MRR normalisation).
--
-- A customer's MRR at the end of day d is the sum of their paying rows, each converted to
-- the reporting currency at the rate of day d (analytics.exchange_rates); a row in a
-- currency without a rate that day adds nothing there and is reported apart (unconverted).
-- Each day, each customer whose rows changed that day is compared with the day before,
-- BOTH at day d's rates (so a rate change is never an expansion or a contraction):
--   0 -> x > 0   new (the customer never paid before) or reactivation (they did)
--   x > 0 -> 0   churn                     x -> y > x   expansion     x -> y < x   contraction
-- Amounts are signed: contraction and churn are negative, so net new MRR is their sum.
-- fx_adjustment is what rates changing (or a currency gaining its first rate) did to last
-- day's MRR, so that every day mrr = previous mrr + net_new_mrr + fx_adjustment exactly
-- (before rounding to cents).
--
-- Cancels take effect at canceled_at, which may be in the future (a cancel at period end):
-- the report shows the churn on that day. A reactivation is a new row after a gap.
--
-- Speed: the subscriptions are read once; every customer's MRR changes only on the days its
-- rows start or end, so the work is per change (a window pass per customer and currency)
-- plus a grid of days x currencies, never days x customers.
--
-- Who sees what: superusers (through RLS), analysts and service_role see every
-- subscription; an ordinary signed-in user sees none (zeros), not even their own, as with
-- the funnels' subscription events. Everything runs as the caller.

-- ---------------------------------------------------------------------------------------
-- private.revenue_engine: per-customer movements and per-day totals in one pass
-- ---------------------------------------------------------------------------------------
create function private.revenue_engine(from_day date, to_day date)
returns table (
  day date,
  new_c double precision,
  expansion_c double precision,
  contraction_c double precision,
  churn_c double precision,
  reactivation_c double precision,
  new_n bigint,
  churn_n bigint,
  reactivation_n bigint,
  churned_users uuid[],
  mrr double precision,
  paying_customers bigint,
  fx double precision,
  unconverted jsonb
)
language plpgsql
stable
set search_path = ''
set jit = off
set plan_cache_mode = force_custom_plan
as $$
#variable_conflict use_column
declare
  rc text := private.reporting_currency();
  lo date := from_day - 1;
begin
  return query
  -- Each paying row as two changes of its customer's MRR in its currency: + on the first
  -- day it pays at the end of, - on the first day it no longer does.
  with ev as (
    select s.user_id, s.currency, x.day, x.delta, x.n, x.pos_start
      from public.subscriptions s
      cross join lateral (
        select (private.paid_from(s.started_at, s.trial_ends_at) at time zone 'UTC')::date as d_from,
               coalesce((s.canceled_at at time zone 'UTC')::date, 'infinity'::date) as d_to,
               (case when s.billing_interval = 'year' then s.amount_cents
                     else s.amount_cents * 12 end)::float8 as m) p
      cross join lateral (values (p.d_from, p.m, 1, p.m > 0), (p.d_to, -p.m, -1, false)) x (day, delta, n, pos_start)
     where s.status <> 'trialing'
       and (current_user <> 'authenticated' or (select private.is_superuser()))
       and p.d_from < p.d_to
       and x.day <= to_day
  ),
  -- Per customer, currency and change day: the change, the level after it, the customer's
  -- first day paying a positive amount, and whether they ever paid in two currencies.
  levels as materialized (
    select e.user_id, e.currency, e.day, e.delta as row_delta, e.n,
           sum(e.delta) over (partition by e.user_id, e.currency, e.day) as delta,
           sum(e.delta) over (partition by e.user_id, e.currency order by e.day) as level,
           row_number() over (partition by e.user_id, e.currency, e.day) as rn,
           min(case when e.pos_start then e.day end) over (partition by e.user_id) as first_day,
           min(e.currency) over (partition by e.user_id) <> max(e.currency) over (partition by e.user_id) as multi
      from ev e
  ),
  currencies as (
    select distinct l.currency from levels l
  ),
  days as (
    select g::date as day from generate_series(lo::timestamp, to_day::timestamp, interval '1 day') g
  ),
  rates as materialized (
    select c.currency, d.day,
           case when c.currency = rc then 1::float8
                else (select r.rate_to_reporting::float8 from analytics.exchange_rates r
                       where r.currency = c.currency and r.valid_from <= d.day
                       order by r.valid_from desc limit 1) end as rate
      from currencies c cross join days d
  ),
  -- Movements, before and after at the day's rates. One currency (nearly everyone): the
  -- change row itself. Several: every currency's level as of that day.
  single as (
    select l.day, l.user_id, l.first_day,
           (l.level - l.delta) * coalesce(r.rate, 0) as before_c,
           l.level * coalesce(r.rate, 0) as after_c
      from levels l
      join rates r on r.currency = l.currency and r.day = l.day
     where not l.multi and l.rn = 1 and l.day >= from_day and l.delta <> 0
  ),
  multi_state as (
    select distinct on (c.user_id, c.day, l.currency)
           c.user_id, c.day, c.first_day, l.currency,
           case when l.day = c.day then l.level - l.delta else l.level end as before_native,
           l.level as after_native
      from levels c
      join levels l on l.user_id = c.user_id and l.day <= c.day
     where c.multi and l.multi and c.day >= from_day
     order by c.user_id, c.day, l.currency, l.day desc
  ),
  multi as (
    select m.day, m.user_id, min(m.first_day) as first_day,
           coalesce(sum(m.before_native * r.rate), 0) as before_c,
           coalesce(sum(m.after_native * r.rate), 0) as after_c
      from multi_state m
      join rates r on r.currency = m.currency and r.day = m.day
     group by m.day, m.user_id
  ),
  moves as (
    select c.day, c.user_id,
           case when c.before_c = 0 then case when c.first_day = c.day then 'new' else 'reactivation' end
                when c.after_c = 0 then 'churn'
                when c.after_c > c.before_c then 'expansion'
                else 'contraction' end as kind,
           c.after_c - c.before_c as amount
      from (select * from single union all select * from multi) c
     where c.after_c <> c.before_c
  ),
  -- Totals per day from a running sum over days x currencies: native MRR, paying rows, and
  -- single-currency customers paying (they count on days their currency has a rate).
  cdelta as (
    select l.currency, greatest(l.day, lo) as day, sum(l.row_delta) as delta, sum(l.n) as n,
           sum(case when l.multi or l.rn > 1 then 0
                    when l.level > 0 and l.level - l.delta <= 0 then 1
                    when l.level <= 0 and l.level - l.delta > 0 then -1
                    else 0 end) as p
      from levels l
     group by l.currency, greatest(l.day, lo)
  ),
  cl as (
    select c.currency, d.day, r.rate,
           sum(coalesce(cd.delta, 0)) over w as level,
           sum(coalesce(cd.n, 0)) over w as subscriptions,
           sum(coalesce(cd.p, 0)) over w as payers
      from currencies c
      cross join days d
      join rates r on r.currency = c.currency and r.day = d.day
      left join cdelta cd on cd.currency = c.currency and cd.day = d.day
    window w as (partition by c.currency order by d.day)
  ),
  cl2 as (
    select cl.*, lag(cl.level) over w as prev_level, lag(cl.rate) over w as prev_rate
      from cl
    window w as (partition by cl.currency order by cl.day)
  ),
  totals as (
    select x.day,
           coalesce(sum(x.level * x.rate), 0) as mrr,
           coalesce(sum(x.prev_level * (coalesce(x.rate, 0) - coalesce(x.prev_rate, 0))), 0) as fx,
           coalesce(sum(x.payers) filter (where x.rate is not null), 0) as payers,
           coalesce(jsonb_object_agg(x.currency, jsonb_build_object(
                      'mrr', round((x.level / 1200.0)::numeric, 2), 'subscriptions', x.subscriptions))
                    filter (where x.rate is null and x.subscriptions > 0), '{}'::jsonb) as unconverted
      from cl2 x
     group by x.day
  ),
  -- Customers paying in several currencies: paying while some currency of theirs with a
  -- positive level has a rate; their 0 -> paying and paying -> 0 transitions.
  rated_from as (
    select c.currency,
           case when c.currency = rc then '-infinity'::date
                else (select min(r.valid_from) from analytics.exchange_rates r where r.currency = c.currency) end as r_from
      from currencies c
  ),
  segs as (
    select l.user_id, greatest(l.day, rf.r_from) as a,
           coalesce(lead(l.day) over (partition by l.user_id, l.currency order by l.day), 'infinity'::date) as b,
           l.level
      from levels l
      join rated_from rf on rf.currency = l.currency
     where l.multi and rf.r_from is not null
  ),
  pos as (
    select s.user_id, s.a, s.b from segs s where s.level > 0 and s.a < s.b
  ),
  ucount as (
    select e.user_id, e.day, sum(e.k) as k
      from (select p.user_id, p.a as day, 1 as k from pos p
            union all
            select p.user_id, p.b, -1 from pos p where p.b < 'infinity'::date) e
     group by e.user_id, e.day
  ),
  running as (
    select u.day, u.k, sum(u.k) over (partition by u.user_id order by u.day) as after_k from ucount u
  ),
  transitions as (
    select greatest(r.day, lo) as day,
           sum(case when r.after_k > 0 and r.after_k - r.k <= 0 then 1
                    when r.after_k <= 0 and r.after_k - r.k > 0 then -1 else 0 end) as t
      from running r
     where r.day <= to_day
     group by greatest(r.day, lo)
  ),
  paying_multi as (
    select d.day, sum(coalesce(t.t, 0)) over (order by d.day) as customers
      from days d left join transitions t on t.day = d.day
  ),
  by_day as (
    select m.day,
           sum(m.amount) filter (where m.kind = 'new') as new_c,
           sum(m.amount) filter (where m.kind = 'expansion') as expansion_c,
           sum(m.amount) filter (where m.kind = 'contraction') as contraction_c,
           sum(m.amount) filter (where m.kind = 'churn') as churn_c,
           sum(m.amount) filter (where m.kind = 'reactivation') as reactivation_c,
           count(*) filter (where m.kind = 'new') as new_n,
           count(*) filter (where m.kind = 'churn') as churn_n,
           count(*) filter (where m.kind = 'reactivation') as reactivation_n,
           array_agg(m.user_id) filter (where m.kind = 'churn') as churned_users
      from moves m
     group by m.day
  )
  select p.day,
         coalesce(b.new_c, 0), coalesce(b.expansion_c, 0), coalesce(b.contraction_c, 0),
         coalesce(b.churn_c, 0), coalesce(b.reactivation_c, 0),
         coalesce(b.new_n, 0), coalesce(b.churn_n, 0), coalesce(b.reactivation_n, 0),
         coalesce(b.churned_users, '{}'::uuid[]),
         coalesce(t.mrr, 0), (p.customers + coalesce(t.payers, 0))::bigint,
         coalesce(t.fx, 0), coalesce(t.unconverted, '{}'::jsonb)
    from paying_multi p
    left join totals t on t.day = p.day
    left join by_day b on b.day = p.day;
end
$$;

comment on function private.revenue_engine(date, date) is
  'Revenue per UTC day from from_day - 1 to to_day: the day''s movements (new, expansion, contraction, churn, reactivation: signed sums, and customers new, churned, reactivated, with the churned customers'' ids), MRR, paying customers, fx adjustment and unconverted currencies (their MRR in major units). Amounts in reporting-currency cents per YEAR (12 x MRR cents: whole numbers before conversion, so sums stay exact), as float8. As the caller; ordinary signed-in users see no subscription.';
revoke all on function private.revenue_engine(date, date) from public, anon, authenticated, service_role;
grant execute on function private.revenue_engine(date, date) to authenticated, service_role, analyst;

-- ---------------------------------------------------------------------------------------
-- private.check_revenue_range: the argument checks every report shares
-- ---------------------------------------------------------------------------------------
create function private.check_revenue_range(caller text, from_name text, from_value date,
                                            to_name text, to_value date, max_days integer)
returns void
language plpgsql
immutable
set search_path = ''
as $$
begin
  if from_value is null then
    raise exception '%: % must not be null', caller, from_name using errcode = '22023';
  end if;
  if to_value is null then
    raise exception '%: % must not be null', caller, to_name using errcode = '22023';
  end if;
  if from_value > to_value then
    raise exception '%: % (%) is after % (%)', caller, from_name, from_value, to_name, to_value
      using errcode = '22023';
  end if;
  if to_value - from_value >= max_days then
    raise exception '%: % to % spans % days; ask for at most %', caller, from_name, to_name,
      to_value - from_value + 1, max_days using errcode = '22023';
  end if;
  if from_value < date '1970-01-02' or to_value > date '9999-01-01' then
    raise exception '%: % and % must be real days', caller, from_name, to_name using errcode = '22023';
  end if;
end
$$;
comment on function private.check_revenue_range(text, text, date, text, date, integer) is
  'Raises 22023 naming the argument when a revenue report''s range is null, reversed or longer than max_days.';
revoke all on function private.check_revenue_range(text, text, date, text, date, integer) from public, anon, authenticated, service_role;
grant execute on function private.check_revenue_range(text, text, date, text, date, integer) to authenticated, service_role, analyst;

-- ---------------------------------------------------------------------------------------
-- analytics.mrr_movements(from_day, to_day)
-- ---------------------------------------------------------------------------------------
create function analytics.mrr_movements(from_day date, to_day date)
returns table (
  day date,
  currency text,
  new_mrr numeric,
  expansion_mrr numeric,
  contraction_mrr numeric,
  churned_mrr numeric,
  reactivation_mrr numeric,
  net_new_mrr numeric,
  fx_adjustment numeric,
  mrr numeric,
  arr numeric,
  paying_customers bigint,
  new_customers bigint,
  churned_customers bigint,
  reactivated_customers bigint,
  arpu numeric,
  unconverted jsonb
)
language plpgsql
stable
set search_path = ''
set jit = off
as $$
#variable_conflict use_column
declare
  rc text := private.reporting_currency();
begin
  perform private.check_revenue_range('analytics.mrr_movements', 'from_day', from_day, 'to_day', to_day, 731);
  return query
  select e.day, rc,
         round((e.new_c / 1200.0)::numeric, 2),
         round((e.expansion_c / 1200.0)::numeric, 2),
         round((e.contraction_c / 1200.0)::numeric, 2),
         round((e.churn_c / 1200.0)::numeric, 2),
         round((e.reactivation_c / 1200.0)::numeric, 2),
         round(((e.new_c + e.expansion_c + e.contraction_c + e.churn_c + e.reactivation_c) / 1200.0)::numeric, 2),
         round((e.fx / 1200.0)::numeric, 2),
         round((e.mrr / 1200.0)::numeric, 2),
         round((e.mrr / 100.0)::numeric, 2),
         e.paying_customers,
         e.new_n,
         e.churn_n,
         e.reactivation_n,
         round((e.mrr / nullif(e.paying_customers, 0) / 1200.0)::numeric, 2),
         e.unconverted
    from private.revenue_engine(from_day, to_day) e
   where e.day >= from_day
   order by e.day;
end
$$;
comment on function analytics.mrr_movements(date, date) is
  'MRR movements per UTC day over [from_day, to_day] (at most 731 days), in the reporting currency (currency; analytics.revenue_settings) in major units: new, expansion, contraction (negative), churned (negative) and reactivation MRR, net new MRR (their sum), fx_adjustment (what exchange-rate changes did to the previous day''s MRR: mrr = previous mrr + net_new_mrr + fx_adjustment), MRR and ARR (12 x MRR) at the end of the day, paying customers, new, churned and reactivated customers, ARPU (MRR per paying customer). Counted per customer (user_id): a plan change ends one row and starts another at the same instant. Yearly plans count amount / 12. unconverted: {currency: {mrr, subscriptions}} for paying subscriptions in a currency without a rate that day (analytics.exchange_rates), in their own currency and not in the other figures. As the caller: superusers and analysts see every subscription; 22023 naming the argument for a bad range.';
revoke all on function analytics.mrr_movements(date, date) from public, anon, authenticated, service_role;
grant execute on function analytics.mrr_movements(date, date) to authenticated, service_role, analyst;

-- ---------------------------------------------------------------------------------------
-- analytics.revenue_churn(from_month, to_month)
-- ---------------------------------------------------------------------------------------
create function analytics.revenue_churn(from_month date, to_month date)
returns table (
  month date,
  currency text,
  customers_at_start bigint,
  churned_customers bigint,
  customer_churn_rate numeric,
  mrr_at_start numeric,
  churned_mrr numeric,
  contraction_mrr numeric,
  expansion_mrr numeric,
  revenue_churn_rate numeric,
  net_revenue_churn_rate numeric
)
language plpgsql
stable
set search_path = ''
set jit = off
as $$
#variable_conflict use_column
declare
  rc text := private.reporting_currency();
  first_month date := date_trunc('month', from_month)::date;
  last_month date := date_trunc('month', to_month)::date;
begin
  perform private.check_revenue_range('analytics.revenue_churn', 'from_month', from_month, 'to_month', to_month, 1100);
  return query
  with e as materialized (
    select * from private.revenue_engine(first_month, (last_month + interval '1 month')::date - 1)
  ),
  months as (
    select g::date as month from generate_series(first_month::timestamp, last_month::timestamp, interval '1 month') g
  ),
  m as (
    select date_trunc('month', e.day)::date as month,
           sum(e.churn_c) as churn_c,
           sum(e.contraction_c) as contraction_c,
           sum(e.expansion_c) as expansion_c
      from e where e.day >= first_month group by 1
  ),
  churned as (
    select date_trunc('month', e.day)::date as month, count(distinct u.u) as churned_n
      from e cross join lateral unnest(e.churned_users) as u (u)
     where e.day >= first_month
     group by 1
  )
  select mo.month, rc,
         s.paying_customers,
         coalesce(ch.churned_n, 0),
         round(100.0 * coalesce(ch.churned_n, 0) / nullif(s.paying_customers, 0), 2),
         round((s.mrr / 1200.0)::numeric, 2),
         round((coalesce(m.churn_c, 0) / 1200.0)::numeric, 2),
         round((coalesce(m.contraction_c, 0) / 1200.0)::numeric, 2),
         round((coalesce(m.expansion_c, 0) / 1200.0)::numeric, 2),
         round((-100.0 * (coalesce(m.churn_c, 0) + coalesce(m.contraction_c, 0)) / nullif(s.mrr, 0))::numeric, 2),
         round((-100.0 * (coalesce(m.churn_c, 0) + coalesce(m.contraction_c, 0) + coalesce(m.expansion_c, 0))
                / nullif(s.mrr, 0))::numeric, 2)
    from months mo
    join e s on s.day = mo.month - 1
    left join m on m.month = mo.month
    left join churned ch on ch.month = mo.month
   order by mo.month;
end
$$;
comment on function analytics.revenue_churn(date, date) is
  'Churn per calendar month from the month of from_month to the month of to_month (at most 36 months), in the reporting currency: customers paying at the start of the month (the end of the day before), customers who churned in it (distinct; a customer who churns, comes back and churns again counts once), customer churn rate (% of those at the start), MRR at the start, churned and contraction MRR (negative), expansion MRR, revenue churn rate ((churned + contraction) / MRR at start, %) and net revenue churn rate ((churned + contraction + expansion) / MRR at start, %; negative when expansion outgrows losses). Customers who start and churn within the month count in churned. Rates are null when nobody paid at the start. As analytics.mrr_movements counts them; as the caller; 22023 naming the argument for a bad range.';
revoke all on function analytics.revenue_churn(date, date) from public, anon, authenticated, service_role;
grant execute on function analytics.revenue_churn(date, date) to authenticated, service_role, analyst;

-- ---------------------------------------------------------------------------------------
-- analytics.trial_conversion(from_month, to_month)
-- ---------------------------------------------------------------------------------------
create function analytics.trial_conversion(from_month date, to_month date)
returns table (
  cohort_month date,
  trials bigint,
  converted bigint,
  converted_in_trial bigint,
  converted_late bigint,
  still_trialing bigint,
  conversion_rate numeric,
  median_days_to_convert numeric
)
language plpgsql
stable
set search_path = ''
set jit = off
as $$
#variable_conflict use_column
declare
  first_month date := date_trunc('month', from_month)::date;
  last_month date := date_trunc('month', to_month)::date;
begin
  perform private.check_revenue_range('analytics.trial_conversion', 'from_month', from_month, 'to_month', to_month, 1100);
  return query
  with vis as materialized (
    select s.user_id, s.status, s.amount_cents, s.started_at, s.trial_ends_at, s.canceled_at,
           private.paid_from(s.started_at, s.trial_ends_at) as paid_at
      from public.subscriptions s
     where current_user <> 'authenticated' or (select private.is_superuser())
  ),
  first_trial as (
    select distinct on (v.user_id) v.user_id, v.started_at as trial_start, v.trial_ends_at as trial_end,
           v.canceled_at as trial_canceled
      from vis v
     where v.trial_ends_at > v.started_at
     order by v.user_id, v.started_at, v.trial_ends_at
  ),
  first_paid as (
    select ft.user_id, min(v.paid_at) as paid_at
      from first_trial ft
      join vis v on v.user_id = ft.user_id
     where v.status <> 'trialing' and v.amount_cents > 0
       and v.paid_at >= ft.trial_start and v.paid_at <= now()
       and (v.canceled_at is null or v.canceled_at > v.paid_at)
     group by ft.user_id
  ),
  cohorts as (
    select date_trunc('month', ft.trial_start at time zone 'UTC')::date as month, ft.trial_start, ft.trial_end,
           ft.trial_canceled, fp.paid_at
      from first_trial ft left join first_paid fp on fp.user_id = ft.user_id
  )
  select g::date,
         count(c.month),
         count(c.paid_at),
         count(c.paid_at) filter (where c.paid_at <= c.trial_end),
         count(c.paid_at) filter (where c.paid_at > c.trial_end),
         count(c.month) filter (where c.paid_at is null and c.trial_end > now()
                                  and (c.trial_canceled is null or c.trial_canceled > now())),
         round(100.0 * count(c.paid_at) / nullif(count(c.month), 0), 2),
         round((percentile_cont(0.5) within group (
                  order by extract(epoch from c.paid_at - c.trial_start) / 86400.0))::numeric, 1)
    from generate_series(first_month::timestamp, last_month::timestamp, interval '1 month') g
    left join cohorts c on c.month = g::date
   group by g
   order by g;
end
$$;
comment on function analytics.trial_conversion(date, date) is
  'Trial-to-paid conversion by trial cohort (the UTC month of each customer''s FIRST trial: a subscription whose trial_ends_at is after started_at), from the month of from_month to the month of to_month (at most 36): trials, converted (the customer started paying a positive amount, at or after the trial start, by now, in any row: the trial row itself or a later one), converted_in_trial (paying began by the end of the trial), converted_late (after it), still_trialing (not converted, trial still running), conversion_rate (% of trials), median_days_to_convert (trial start to first payment, converted only). As the caller: superusers and analysts see every subscription; 22023 naming the argument for a bad range.';
revoke all on function analytics.trial_conversion(date, date) from public, anon, authenticated, service_role;
grant execute on function analytics.trial_conversion(date, date) to authenticated, service_role, analyst;
