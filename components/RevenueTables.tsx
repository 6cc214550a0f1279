/**
 * The revenue page's cards and tables: headline cards (MRR, ARR, customers, ARPU, churn),
 * MRR movements per day, churn per month, trial conversion per cohort, and the exchange
 * rates with the superuser's form to add, replace or remove one.
 *
 * @module
 */
import type { ChurnMonth, ExchangeRate, RevenueDay, TrialCohort } from "../analytics/revenue.ts";

/** The movement kinds in the order they are stacked, with their colours. */
export const MOVEMENTS = [
  { key: "newMrr", label: "New", color: "#047857" },
  { key: "expansionMrr", label: "Expansion", color: "#1d4ed8" },
  { key: "reactivationMrr", label: "Reactivation", color: "#7c3aed" },
  { key: "contractionMrr", label: "Contraction", color: "#d97706" },
  { key: "churnedMrr", label: "Churned", color: "#b91c1c" },
] as const;

/** An amount with two decimals and thousands separators. */
export function money(n: number | null, currency: string): string {
  if (n === null) return "–";
  return `${
    n.toLocaleString("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 })
  } ${currency}`;
}

function pct(n: number | null): string {
  return n === null ? "–" : `${n.toFixed(2)}%`;
}

function Card(props: { label: string; value: string; note?: string; id: string }) {
  return (
    <div class="card kpi" data-kpi={props.id}>
      <div class="label">{props.label}</div>
      <div class="value" style={`--chars:${props.value.length}`}>{props.value}</div>
      {props.note && <div class="muted">{props.note}</div>}
    </div>
  );
}

/** The headline cards: the last day of the range, and the last month's churn. */
export function RevenueCards(
  props: { days: RevenueDay[]; churn: ChurnMonth[]; currency: string },
) {
  const last = props.days[props.days.length - 1];
  const month = props.churn[props.churn.length - 1];
  const netNew = props.days.reduce((t, d) => t + d.netNewMrr, 0);
  if (!last) return null;
  return (
    <div class="cards">
      <Card id="mrr" label={`MRR on ${last.day}`} value={money(last.mrr, props.currency)} />
      <Card id="arr" label="ARR" value={money(last.arr, props.currency)} />
      <Card id="customers" label="Paying customers" value={String(last.payingCustomers)} />
      <Card
        id="arpu"
        label="ARPU"
        value={money(last.arpu, props.currency)}
        note="MRR per customer"
      />
      <Card id="net-new" label="Net new MRR in the range" value={money(netNew, props.currency)} />
      {month && (
        <>
          <Card
            id="customer-churn"
            label={`Customer churn, ${month.month.slice(0, 7)}`}
            value={pct(month.customerChurnRate)}
            note={`${month.churnedCustomers} of ${month.customersAtStart} at the start`}
          />
          <Card
            id="revenue-churn"
            label={`Revenue churn, ${month.month.slice(0, 7)}`}
            value={pct(month.revenueChurnRate)}
            note={`net ${pct(month.netRevenueChurnRate)} after expansion`}
          />
        </>
      )}
    </div>
  );
}

/** MRR movements per day, as `analytics.mrr_movements` answers (newest last). */
export function MovementsTable(props: { days: RevenueDay[] }) {
  return (
    <div style="max-height:420px;overflow:auto">
      <table class="data" id="revenue-table">
        <thead>
          <tr>
            <th scope="col">Day</th>
            {MOVEMENTS.map((m) => <th key={m.key} scope="col" class="num">{m.label}</th>)}
            <th scope="col" class="num">Net new</th>
            <th scope="col" class="num">FX</th>
            <th scope="col" class="num">MRR</th>
            <th scope="col" class="num">Customers</th>
            <th scope="col" class="num">ARPU</th>
            <th scope="col">Without a rate</th>
          </tr>
        </thead>
        <tbody>
          {props.days.map((d) => (
            <tr key={d.day}>
              <th scope="row" class="date">{d.day}</th>
              {MOVEMENTS.map((m) => <td key={m.key} class="num">{d[m.key].toFixed(2)}</td>)}
              <td class="num">{d.netNewMrr.toFixed(2)}</td>
              <td class="num">{d.fxAdjustment.toFixed(2)}</td>
              <td class="num">{d.mrr.toFixed(2)}</td>
              <td class="num">{d.payingCustomers}</td>
              <td class="num">{d.arpu === null ? "–" : d.arpu.toFixed(2)}</td>
              <td>
                {Object.entries(d.unconverted).map(([c, v]) =>
                  `${v.mrr.toFixed(2)} ${c} (${v.subscriptions})`
                ).join(", ")}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/** Churn per month. */
export function ChurnTable(props: { churn: ChurnMonth[] }) {
  return (
    <table class="data" id="churn-table">
      <thead>
        <tr>
          <th scope="col">Month</th>
          <th scope="col" class="num">Customers at start</th>
          <th scope="col" class="num">Churned</th>
          <th scope="col" class="num">Customer churn</th>
          <th scope="col" class="num">MRR at start</th>
          <th scope="col" class="num">Revenue churn</th>
          <th scope="col" class="num">Net revenue churn</th>
        </tr>
      </thead>
      <tbody>
        {props.churn.map((m) => (
          <tr key={m.month}>
            <th scope="row" class="date">{m.month.slice(0, 7)}</th>
            <td class="num">{m.customersAtStart}</td>
            <td class="num">{m.churnedCustomers}</td>
            <td class="num">{pct(m.customerChurnRate)}</td>
            <td class="num">{m.mrrAtStart.toFixed(2)}</td>
            <td class="num">{pct(m.revenueChurnRate)}</td>
            <td class="num">{pct(m.netRevenueChurnRate)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** Trial-to-paid conversion per trial cohort. */
export function TrialTable(props: { trials: TrialCohort[] }) {
  return (
    <table class="data" id="trials-table">
      <thead>
        <tr>
          <th scope="col">Trial cohort</th>
          <th scope="col" class="num">Trials</th>
          <th scope="col" class="num">Converted</th>
          <th scope="col" class="num">In trial</th>
          <th scope="col" class="num">Late</th>
          <th scope="col" class="num">Still trialing</th>
          <th scope="col" class="num">Conversion</th>
          <th scope="col" class="num">Median days</th>
        </tr>
      </thead>
      <tbody>
        {props.trials.map((t) => (
          <tr key={t.cohortMonth}>
            <th scope="row" class="date">{t.cohortMonth.slice(0, 7)}</th>
            <td class="num">{t.trials}</td>
            <td class="num">{t.converted}</td>
            <td class="num">{t.convertedInTrial}</td>
            <td class="num">{t.convertedLate}</td>
            <td class="num">{t.stillTrialing}</td>
            <td class="num">{pct(t.conversionRate)}</td>
            <td class="num">
              {t.medianDaysToConvert === null ? "–" : t.medianDaysToConvert.toFixed(1)}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** The exchange rates, each removable, and a form to add or replace one. */
export function RatesSection(
  props: {
    rates: ExchangeRate[];
    currency: string;
    csrf: string;
    back: string;
    /** Whether the viewer may change the rates (superusers; analysts only read). */
    canEdit?: boolean;
  },
) {
  const canEdit = props.canEdit ?? true;
  return (
    <section class="card" style="margin-top:12px" id="rates">
      <h2>
        Exchange rates <small>to {props.currency}, from a UTC day until the next rate</small>
      </h2>
      <table class="data" id="rates-table">
        <thead>
          <tr>
            <th scope="col">Currency</th>
            <th scope="col" class="num">Rate to {props.currency}</th>
            <th scope="col">Valid from</th>
            <th scope="col"></th>
          </tr>
        </thead>
        <tbody>
          {props.rates.map((r) => (
            <tr key={`${r.currency}-${r.validFrom}`}>
              <th scope="row">{r.currency}</th>
              <td class="num">{r.rate}</td>
              <td class="date">{r.validFrom}</td>
              <td>
                {canEdit && (
                  <form method="post" action="/analytics/revenue/rates">
                    <input type="hidden" name="csrf" value={props.csrf} />
                    <input type="hidden" name="back" value={props.back} />
                    <input type="hidden" name="action" value="delete" />
                    <input type="hidden" name="currency" value={r.currency} />
                    <input type="hidden" name="valid_from" value={r.validFrom} />
                    <button type="submit">Remove</button>
                  </form>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {canEdit && (
        <form
          method="post"
          action="/analytics/revenue/rates"
          class="controls"
          style="margin-top:12px"
        >
          <input type="hidden" name="csrf" value={props.csrf} />
          <input type="hidden" name="back" value={props.back} />
          <label>
            Currency <input name="currency" required maxLength={3} placeholder="EUR" size={4} />
          </label>
          <label>
            Rate to {props.currency}{" "}
            <input name="rate" required inputMode="decimal" placeholder="1.08" />
          </label>
          <label>
            Valid from <input type="date" name="valid_from" required />
          </label>
          <button class="primary" type="submit">Save rate</button>
        </form>
      )}
      <p class="hint">
        Subscriptions in a currency with no rate yet are shown apart ("Without a rate"), in their
        own currency. Rates are also kept in SQL: <code>analytics.exchange_rates</code>.
      </p>
    </section>
  );
}
