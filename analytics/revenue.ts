/**
 * Revenue: the report's range out of a URL, its reads (`analytics.mrr_movements`,
 * `analytics.revenue_churn`, `analytics.trial_conversion`, as the viewer), and the exchange
 * rates (read, added or replaced, removed: as the viewer, so RLS decides who may write).
 * SQL's 22023 refusals become a {@linkcode ParamError} naming the URL parameter.
 *
 * @module
 */
import type { Queryable } from "../database/mod.ts";
import { assertCleanParams, ParamError } from "./params.ts";
import { daysBetween } from "./days.ts";
import { optionalDate } from "./retention.ts";

/** The URL parameter each SQL argument comes from. */
const FIELDS: Record<string, string> = {
  from_day: "from",
  to_day: "to",
  from_month: "from",
  to_month: "to",
};

/** The longest range the page asks for: two years of days (analytics.mrr_movements' limit). */
export const MAX_REVENUE_DAYS = 731;

async function withParamErrors<T>(read: () => Promise<T>): Promise<T> {
  try {
    return await read();
  } catch (error) {
    const { code, message } = error as { code?: string; message?: string };
    const argument = code === "22023" ? /^analytics\.\w+: (\w+)/.exec(message ?? "")?.[1] : null;
    if (argument && FIELDS[argument]) {
      throw new ParamError(FIELDS[argument], message!.replace(/^analytics\.\w+: /, ""));
    }
    throw error;
  }
}

/** The revenue report's range: UTC days, both included. */
export interface RevenueRange {
  from: string;
  to: string;
}

/**
 * The range a URL asks for (`from`, `to`). Default: the 12 months to today (from the first
 * day of the month 11 months back).
 *
 * @param params The query string.
 * @param today Today (UTC), `YYYY-MM-DD`.
 * @throws {ParamError} For a bad date, a reversed range or one over two years.
 */
export function parseRevenueRange(params: URLSearchParams, today: string): RevenueRange {
  assertCleanParams(params);
  const to = optionalDate(params, "to") ?? today;
  let from = optionalDate(params, "from");
  if (from === null) {
    const d = new Date(`${to.slice(0, 7)}-01T00:00:00Z`);
    d.setUTCMonth(d.getUTCMonth() - 11);
    from = d.toISOString().slice(0, 10);
  }
  if (from > to) throw new ParamError("from", `${from} is after to (${to})`);
  if (daysBetween(from, to) > MAX_REVENUE_DAYS) {
    throw new ParamError("from", `the range may be at most ${MAX_REVENUE_DAYS} days`);
  }
  return { from, to };
}

/** The query string of a range. */
export function revenueQuery(r: RevenueRange): string {
  return new URLSearchParams({ from: r.from, to: r.to }).toString();
}

/** One day of `analytics.mrr_movements`; amounts in the reporting currency. */
export interface RevenueDay {
  day: string;
  currency: string;
  newMrr: number;
  expansionMrr: number;
  contractionMrr: number;
  churnedMrr: number;
  reactivationMrr: number;
  netNewMrr: number;
  fxAdjustment: number;
  mrr: number;
  arr: number;
  payingCustomers: number;
  newCustomers: number;
  churnedCustomers: number;
  reactivatedCustomers: number;
  arpu: number | null;
  /** Currencies without a rate that day: their MRR in their own currency. */
  unconverted: Record<string, { mrr: number; subscriptions: number }>;
}

/** One month of `analytics.revenue_churn`. */
export interface ChurnMonth {
  month: string;
  customersAtStart: number;
  churnedCustomers: number;
  customerChurnRate: number | null;
  mrrAtStart: number;
  churnedMrr: number;
  contractionMrr: number;
  expansionMrr: number;
  revenueChurnRate: number | null;
  netRevenueChurnRate: number | null;
}

/** One cohort of `analytics.trial_conversion`. */
export interface TrialCohort {
  cohortMonth: string;
  trials: number;
  converted: number;
  convertedInTrial: number;
  convertedLate: number;
  stillTrialing: number;
  conversionRate: number | null;
  medianDaysToConvert: number | null;
}

/** Everything the page and the API show. */
export interface RevenueReport {
  range: RevenueRange;
  currency: string;
  days: RevenueDay[];
  churn: ChurnMonth[];
  trials: TrialCohort[];
}

const num = (v: unknown) => Number(v);
const maybe = (v: unknown) => (v === null || v === undefined ? null : Number(v));

/**
 * Reads the three revenue reports for a range, as the viewer.
 *
 * @param tx The viewer's transaction.
 * @param r The range.
 * @throws {ParamError} When the SQL refuses an argument.
 */
export function readRevenue(tx: Queryable, r: RevenueRange): Promise<RevenueReport> {
  return withParamErrors(async () => {
    const days = await tx.query<Record<string, unknown>>(
      `select day::text, currency, new_mrr::float8, expansion_mrr::float8, contraction_mrr::float8,
              churned_mrr::float8, reactivation_mrr::float8, net_new_mrr::float8, fx_adjustment::float8,
              mrr::float8, arr::float8, paying_customers::int, new_customers::int, churned_customers::int,
              reactivated_customers::int, arpu::float8, unconverted::text
         from analytics.mrr_movements($1::date, $2::date)`,
      [r.from, r.to],
    );
    const churn = await tx.query<Record<string, unknown>>(
      `select month::text, customers_at_start::int, churned_customers::int, customer_churn_rate::float8,
              mrr_at_start::float8, churned_mrr::float8, contraction_mrr::float8, expansion_mrr::float8,
              revenue_churn_rate::float8, net_revenue_churn_rate::float8
         from analytics.revenue_churn($1::date, $2::date)`,
      [r.from, r.to],
    );
    const trials = await tx.query<Record<string, unknown>>(
      `select cohort_month::text, trials::int, converted::int, converted_in_trial::int,
              converted_late::int, still_trialing::int, conversion_rate::float8,
              median_days_to_convert::float8
         from analytics.trial_conversion($1::date, $2::date)`,
      [r.from, r.to],
    );
    const [{ currency }] = await tx.query<{ currency: string }>(
      `select coalesce((select reporting_currency from analytics.revenue_settings limit 1), 'USD') as currency`,
    );
    return {
      range: r,
      currency,
      days: days.map((d) => ({
        day: String(d.day),
        currency: String(d.currency),
        newMrr: num(d.new_mrr),
        expansionMrr: num(d.expansion_mrr),
        contractionMrr: num(d.contraction_mrr),
        churnedMrr: num(d.churned_mrr),
        reactivationMrr: num(d.reactivation_mrr),
        netNewMrr: num(d.net_new_mrr),
        fxAdjustment: num(d.fx_adjustment),
        mrr: num(d.mrr),
        arr: num(d.arr),
        payingCustomers: num(d.paying_customers),
        newCustomers: num(d.new_customers),
        churnedCustomers: num(d.churned_customers),
        reactivatedCustomers: num(d.reactivated_customers),
        arpu: maybe(d.arpu),
        unconverted: JSON.parse(String(d.unconverted)),
      })),
      churn: churn.map((m) => ({
        month: String(m.month),
        customersAtStart: num(m.customers_at_start),
        churnedCustomers: num(m.churned_customers),
        customerChurnRate: maybe(m.customer_churn_rate),
        mrrAtStart: num(m.mrr_at_start),
        churnedMrr: num(m.churned_mrr),
        contractionMrr: num(m.contraction_mrr),
        expansionMrr: num(m.expansion_mrr),
        revenueChurnRate: maybe(m.revenue_churn_rate),
        netRevenueChurnRate: maybe(m.net_revenue_churn_rate),
      })),
      trials: trials.map((t) => ({
        cohortMonth: String(t.cohort_month),
        trials: num(t.trials),
        converted: num(t.converted),
        convertedInTrial: num(t.converted_in_trial),
        convertedLate: num(t.converted_late),
        stillTrialing: num(t.still_trialing),
        conversionRate: maybe(t.conversion_rate),
        medianDaysToConvert: maybe(t.median_days_to_convert),
      })),
    };
  });
}

/** An exchange rate. */
export interface ExchangeRate {
  currency: string;
  rate: number;
  validFrom: string;
}

/**
 * The exchange rates the viewer may read, by currency and day.
 *
 * @param tx The viewer's transaction.
 */
export async function readRates(tx: Queryable): Promise<ExchangeRate[]> {
  const rows = await tx.query<{ currency: string; rate: string; valid_from: string }>(
    `select currency, rate_to_reporting::text as rate, valid_from::text
       from analytics.exchange_rates order by currency, valid_from`,
  );
  return rows.map((r) => ({ currency: r.currency, rate: Number(r.rate), validFrom: r.valid_from }));
}

/**
 * Checks a rate form (`currency`, `rate`, `valid_from`).
 *
 * @param form The submitted fields.
 * @throws {ParamError} Naming the first bad field.
 */
export function parseRateForm(form: Record<string, unknown>): ExchangeRate {
  const currency = String(form.currency ?? "").trim().toUpperCase();
  if (!/^[A-Z]{3}$/.test(currency)) {
    throw new ParamError("currency", "must be a three-letter ISO 4217 code, e.g. EUR");
  }
  const text = String(form.rate ?? "").trim();
  const rate = Number(text);
  if (!/^\d+(\.\d+)?$/.test(text) || !(rate > 0) || rate >= 1_000_000) {
    throw new ParamError("rate", `must be a positive number below 1000000, not "${text}"`);
  }
  const params = new URLSearchParams({ valid_from: String(form.valid_from ?? "") });
  const validFrom = optionalDate(params, "valid_from");
  if (validFrom === null) throw new ParamError("valid_from", "must be a date as YYYY-MM-DD");
  return { currency, rate, validFrom };
}

/**
 * Adds a rate, or replaces the rate of that currency and day, as the viewer (RLS lets only
 * superusers and service_role write).
 *
 * @param tx The viewer's transaction.
 * @param r The rate.
 */
export async function saveRate(tx: Queryable, r: ExchangeRate): Promise<void> {
  await tx.query(
    `insert into analytics.exchange_rates (currency, rate_to_reporting, valid_from)
     values ($1, $2::numeric, $3::date)
     on conflict (currency, valid_from) do update set rate_to_reporting = excluded.rate_to_reporting`,
    [r.currency, String(r.rate), r.validFrom],
  );
}

/**
 * Removes the rate of a currency and day, as the viewer.
 *
 * @param tx The viewer's transaction.
 * @param currency The currency.
 * @param validFrom The day.
 */
export async function deleteRate(tx: Queryable, currency: string, validFrom: string) {
  await tx.query(
    `delete from analytics.exchange_rates where currency = $1 and valid_from = $2::date`,
    [currency, validFrom],
  );
}
