/**
 * An independent computation of the revenue reports, brute force: every subscription is
 * tested at the end of every day, every customer compared with the day before. Nothing here
 * shares code or shortcuts with the SQL (no change-day bookkeeping, no running sums).
 *
 * @module
 */
import type { TestSubscription } from "./random_data.ts";
import type { RevenueData, TestRate } from "./revenue_data.ts";

const DAY_MS = 86_400_000;

/** One day of analytics.mrr_movements, amounts in major units, unrounded. */
export interface ExpectedDay {
  day: string;
  new_mrr: number;
  expansion_mrr: number;
  contraction_mrr: number;
  churned_mrr: number;
  reactivation_mrr: number;
  net_new_mrr: number;
  fx_adjustment: number;
  mrr: number;
  arr: number;
  paying_customers: number;
  new_customers: number;
  churned_customers: number;
  reactivated_customers: number;
  arpu: number | null;
  unconverted: Record<string, { mrr: number; subscriptions: number }>;
  churnedUsers: string[];
}

const ms = (day: string) => Date.parse(`${day}T00:00:00Z`);
const dayOf = (at: number) => new Date(at).toISOString().slice(0, 10);

/** Days from `first` to `last`, inclusive. */
export function daysBetween(first: string, last: string): string[] {
  const out: string[] = [];
  for (let t = ms(first); t <= ms(last); t += DAY_MS) out.push(dayOf(t));
  return out;
}

function paysAtEndOf(s: TestSubscription, day: string): boolean {
  const at = ms(day) + DAY_MS;
  if (s.status === "trialing") return false;
  const paidFrom = Math.max(s.startedAt, s.trialEndsAt ?? -Infinity);
  return paidFrom < at && (s.canceledAt === null || s.canceledAt >= at);
}

function monthly(s: TestSubscription): number {
  return s.billingInterval === "year" ? s.amountCents / 12 : s.amountCents;
}

function rateOn(rates: TestRate[], currency: string, day: string, reporting: string) {
  if (currency === reporting) return 1;
  let best: TestRate | null = null;
  for (const r of rates) {
    if (r.currency === currency && r.validFrom <= day && (!best || r.validFrom > best.validFrom)) {
      best = r;
    }
  }
  return best ? best.rate : null;
}

/**
 * What analytics.mrr_movements should answer for [fromDay, toDay].
 *
 * @param data The subscriptions and rates.
 * @param fromDay First day.
 * @param toDay Last day.
 * @param reporting The reporting currency.
 * @returns One entry per day, plus the day before fromDay first.
 */
export function expectedMovements(
  data: RevenueData,
  fromDay: string,
  toDay: string,
  reporting = "USD",
): ExpectedDay[] {
  const byUser = new Map<string, TestSubscription[]>();
  for (const s of data.subscriptions) {
    byUser.set(s.userId, [...(byUser.get(s.userId) ?? []), s]);
  }
  const earliest = dayOf(Math.min(...data.subscriptions.map((s) => s.startedAt)) - DAY_MS);
  // Each user's first day paying a positive amount (any currency).
  const firstPaid = new Map<string, string>();
  for (const d of daysBetween(earliest, toDay)) {
    for (const [u, subs] of byUser) {
      if (!firstPaid.has(u) && subs.some((s) => monthly(s) > 0 && paysAtEndOf(s, d))) {
        firstPaid.set(u, d);
      }
    }
  }
  const native = (subs: TestSubscription[], day: string) => {
    const v = new Map<string, { level: number; n: number }>();
    for (const s of subs) {
      if (!paysAtEndOf(s, day)) continue;
      const c = v.get(s.currency) ?? { level: 0, n: 0 };
      v.set(s.currency, { level: c.level + monthly(s), n: c.n + 1 });
    }
    return v;
  };
  const convert = (v: Map<string, { level: number }>, day: string) => {
    let sum = 0;
    for (const [c, { level }] of v) sum += level * (rateOn(data.rates, c, day, reporting) ?? 0);
    return sum;
  };
  const prevDay = dayOf(ms(fromDay) - DAY_MS);
  const out: ExpectedDay[] = [];
  let previousMrr = 0;
  for (const d of daysBetween(prevDay, toDay)) {
    const before = dayOf(ms(d) - DAY_MS);
    const e: ExpectedDay = {
      day: d,
      new_mrr: 0,
      expansion_mrr: 0,
      contraction_mrr: 0,
      churned_mrr: 0,
      reactivation_mrr: 0,
      net_new_mrr: 0,
      fx_adjustment: 0,
      mrr: 0,
      arr: 0,
      paying_customers: 0,
      new_customers: 0,
      churned_customers: 0,
      reactivated_customers: 0,
      arpu: null,
      unconverted: {},
      churnedUsers: [],
    };
    for (const [u, subs] of byUser) {
      const after = native(subs, d);
      const a = convert(after, d);
      const b = convert(native(subs, before), d);
      e.mrr += a;
      if (a > 1e-9) e.paying_customers++;
      for (const [c, { level, n }] of after) {
        if (rateOn(data.rates, c, d, reporting) !== null) continue;
        const x = e.unconverted[c] ?? { mrr: 0, subscriptions: 0 };
        e.unconverted[c] = { mrr: x.mrr + level, subscriptions: x.subscriptions + n };
      }
      if (Math.abs(a - b) < 1e-9) continue;
      const diff = (a - b) / 100;
      if (b < 1e-9) {
        if (firstPaid.get(u) === d) {
          e.new_mrr += diff;
          e.new_customers++;
        } else {
          e.reactivation_mrr += diff;
          e.reactivated_customers++;
        }
      } else if (a < 1e-9) {
        e.churned_mrr += diff;
        e.churned_customers++;
        e.churnedUsers.push(u);
      } else if (a > b) e.expansion_mrr += diff;
      else e.contraction_mrr += diff;
    }
    e.mrr /= 100;
    for (const c of Object.keys(e.unconverted)) e.unconverted[c].mrr /= 100;
    e.arr = e.mrr * 12;
    e.net_new_mrr = e.new_mrr + e.expansion_mrr + e.contraction_mrr + e.churned_mrr +
      e.reactivation_mrr;
    e.fx_adjustment = e.mrr - previousMrr - e.net_new_mrr;
    e.arpu = e.paying_customers > 0 ? e.mrr / e.paying_customers : null;
    previousMrr = e.mrr;
    out.push(e);
  }
  return out;
}

/** One month of analytics.revenue_churn, unrounded. */
export interface ExpectedChurn {
  month: string;
  customers_at_start: number;
  churned_customers: number;
  customer_churn_rate: number | null;
  mrr_at_start: number;
  churned_mrr: number;
  contraction_mrr: number;
  expansion_mrr: number;
  revenue_churn_rate: number | null;
  net_revenue_churn_rate: number | null;
}

/**
 * What analytics.revenue_churn should answer for the months of fromDay to toDay.
 *
 * @param data The subscriptions and rates.
 * @param fromMonth Any day of the first month.
 * @param toMonth Any day of the last month.
 * @param reporting The reporting currency.
 * @returns One entry per month.
 */
export function expectedChurn(
  data: RevenueData,
  fromMonth: string,
  toMonth: string,
  reporting = "USD",
): ExpectedChurn[] {
  const first = `${fromMonth.slice(0, 7)}-01`;
  const lastStart = ms(`${toMonth.slice(0, 7)}-01`);
  const next = new Date(lastStart);
  next.setUTCMonth(next.getUTCMonth() + 1);
  const days = expectedMovements(data, first, dayOf(next.getTime() - DAY_MS), reporting);
  const out: ExpectedChurn[] = [];
  for (let i = 1; i < days.length; i++) {
    if (!days[i].day.endsWith("-01")) continue;
    const start = days[i - 1];
    const inMonth = days.filter((d) => d.day.slice(0, 7) === days[i].day.slice(0, 7));
    const sum = (k: "churned_mrr" | "contraction_mrr" | "expansion_mrr") =>
      inMonth.reduce((t, d) => t + d[k], 0);
    const churned = new Set(inMonth.flatMap((d) => d.churnedUsers)).size;
    const c = sum("churned_mrr"), k = sum("contraction_mrr"), x = sum("expansion_mrr");
    const pct = (v: number, of: number) => of > 1e-9 ? 100 * v / of : null;
    out.push({
      month: days[i].day,
      customers_at_start: start.paying_customers,
      churned_customers: churned,
      customer_churn_rate: pct(churned, start.paying_customers),
      mrr_at_start: start.mrr,
      churned_mrr: c,
      contraction_mrr: k,
      expansion_mrr: x,
      revenue_churn_rate: pct(-(c + k), start.mrr),
      net_revenue_churn_rate: pct(-(c + k + x), start.mrr),
    });
  }
  return out;
}

/** One cohort of analytics.trial_conversion, unrounded. */
export interface ExpectedCohort {
  cohort_month: string;
  trials: number;
  converted: number;
  converted_in_trial: number;
  converted_late: number;
  still_trialing: number;
  conversion_rate: number | null;
  median_days_to_convert: number | null;
}

/**
 * What analytics.trial_conversion should answer.
 *
 * @param data The subscriptions.
 * @param fromMonth Any day of the first month.
 * @param toMonth Any day of the last month.
 * @param now The instant "now".
 * @returns One entry per month.
 */
export function expectedTrials(
  data: RevenueData,
  fromMonth: string,
  toMonth: string,
  now: number,
): ExpectedCohort[] {
  const out = new Map<string, ExpectedCohort & { days: number[] }>();
  for (let m = fromMonth.slice(0, 7); m <= toMonth.slice(0, 7);) {
    out.set(m, {
      cohort_month: `${m}-01`,
      trials: 0,
      converted: 0,
      converted_in_trial: 0,
      converted_late: 0,
      still_trialing: 0,
      conversion_rate: null,
      median_days_to_convert: null,
      days: [],
    });
    const d = new Date(ms(`${m}-01`));
    d.setUTCMonth(d.getUTCMonth() + 1);
    m = dayOf(d.getTime()).slice(0, 7);
  }
  for (const u of data.users) {
    const subs = data.subscriptions.filter((s) => s.userId === u);
    const trials = subs.filter((s) => s.trialEndsAt !== null && s.trialEndsAt > s.startedAt)
      .sort((a, b) => a.startedAt - b.startedAt || a.trialEndsAt! - b.trialEndsAt!);
    if (trials.length === 0) continue;
    const t = trials[0];
    const cohort = out.get(dayOf(t.startedAt).slice(0, 7));
    if (!cohort) continue;
    cohort.trials++;
    const paid = subs.map((s) => ({ s, at: Math.max(s.startedAt, s.trialEndsAt ?? -Infinity) }))
      .filter(({ s, at }) =>
        s.status !== "trialing" && s.amountCents > 0 && at >= t.startedAt && at <= now &&
        (s.canceledAt === null || s.canceledAt > at)
      ).map(({ at }) => at);
    if (paid.length === 0) {
      if (t.trialEndsAt! > now && (t.canceledAt === null || t.canceledAt > now)) {
        cohort.still_trialing++;
      }
      continue;
    }
    const at = Math.min(...paid);
    cohort.converted++;
    if (at <= t.trialEndsAt!) cohort.converted_in_trial++;
    else cohort.converted_late++;
    cohort.days.push((at - t.startedAt) / DAY_MS);
  }
  return [...out.values()].map(({ days, ...c }) => {
    days.sort((a, b) => a - b);
    const mid = days.length / 2;
    return {
      ...c,
      conversion_rate: c.trials > 0 ? 100 * c.converted / c.trials : null,
      median_days_to_convert: days.length === 0
        ? null
        : days.length % 2 === 1
        ? days[Math.floor(mid)]
        : (days[mid - 1] + days[mid]) / 2,
    };
  });
}
