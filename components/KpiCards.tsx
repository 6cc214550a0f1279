/**
 * The headline numbers of /analytics: one card per number, each with its change since the
 * start of the selected range.
 *
 * @module
 */
import { formatCount, formatPercent, formatUsd } from "./format.ts";

/** Props of {@linkcode KpiCard}. */
export interface KpiCardProps {
  /** The number's name. */
  label: string;
  /** Its value now. */
  value: number;
  /** Its value at the start of the range. */
  previous: number;
  /** The range's length in days, to say "vs 30 days ago". */
  days: number;
  /** Whether the number is US dollars. @default {false} */
  money?: boolean;
  /** A short note under the change. */
  note?: string;
  /** A longer explanation, as the card's tooltip. */
  explain?: string;
}

/** One headline number with its change (▲/▼, absolute and relative). */
export function KpiCard(props: KpiCardProps) {
  const format = (n: number) => props.money ? formatUsd(n) : formatCount(n);
  const change = props.value - props.previous;
  const ratio = props.previous === 0 ? null : change / props.previous;
  const direction = change > 0 ? "up" : change < 0 ? "down" : "";
  const text = format(props.value);
  return (
    <div class="card kpi" data-kpi={props.label} title={props.explain}>
      <div class="label">{props.label}</div>
      {/* --chars lets the CSS shrink a long number to fit the card instead of wrapping it. */}
      <div class="value" data-value={props.value} style={`--chars:${text.length}`}>{text}</div>
      <div class={`muted ${direction}`}>
        {change === 0
          ? "no change"
          : <span class="num">{`${change > 0 ? "▲ +" : "▼ "}${format(change)}`}</span>}
        {ratio !== null && change !== 0
          ? (
            <>
              {" "}
              <span class="num">({formatPercent(ratio)})</span>
            </>
          )
          : ""} vs <span class="num">{props.days} days</span> ago
      </div>
      {props.note && <div class="muted">{props.note}</div>}
    </div>
  );
}

/** The headline numbers, as `analytics.summary()` returns them. */
export interface HeadlineFigures {
  total_users: number;
  total_signups: number;
  active_subscriptions: number;
  mrr_estimate_usd: number;
  dau: number;
  wau: number;
  mau: number;
}

/** Props of {@linkcode KpiCards}. */
export interface KpiCardsProps {
  /** The numbers now. */
  current: HeadlineFigures;
  /** The numbers at the end of the day before the range starts. */
  previous: HeadlineFigures;
  /** The range's length in days. */
  days: number;
}

const USERS_VS_SIGNUPS =
  "Total users counts the accounts that exist now; total signups counts the signup events " +
  "recorded in all time. They differ when accounts were deleted, or were imported without " +
  "a signup event.";

/** The row of headline cards: users, signups, subscriptions, MRR, DAU, WAU, MAU. */
export function KpiCards(props: KpiCardsProps) {
  const card = (
    label: string,
    key: keyof HeadlineFigures,
    extra: { money?: boolean; note?: string; explain?: string } = {},
  ) => (
    <KpiCard
      label={label}
      value={props.current[key]}
      previous={props.previous[key]}
      days={props.days}
      {...extra}
    />
  );
  return (
    <section class="cards" aria-label="Headline numbers">
      {card("Total users", "total_users", {
        note: "accounts that exist now",
        explain: USERS_VS_SIGNUPS,
      })}
      {card("Total signups", "total_signups", {
        note: "signup events, all time",
        explain: USERS_VS_SIGNUPS,
      })}
      {card("Active subscriptions", "active_subscriptions")}
      {card("Estimated MRR", "mrr_estimate_usd", { money: true, note: "USD subscriptions" })}
      {card("DAU", "dau", { note: "yesterday (UTC)" })}
      {card("WAU", "wau", { note: "7 days to yesterday" })}
      {card("MAU", "mau", { note: "30 days to yesterday" })}
    </section>
  );
}
