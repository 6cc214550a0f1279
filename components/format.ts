/**
 * How the server-rendered pages write numbers: counts, US dollars and shares, in `en-US`.
 *
 * @module
 */

const count = new Intl.NumberFormat("en-US");
const money = new Intl.NumberFormat("en-US", { style: "currency", currency: "USD" });
const percent = new Intl.NumberFormat("en-US", { style: "percent", maximumFractionDigits: 1 });

/** A count, with thousands separators (`12,345`). */
export function formatCount(n: number): string {
  return count.format(n);
}

/** An amount in US dollars (`$5,474.17`). */
export function formatUsd(n: number): string {
  return money.format(n);
}

/** A ratio as a percentage, to one decimal (`0.512` → `51.2%`). */
export function formatPercent(ratio: number): string {
  return percent.format(ratio);
}
