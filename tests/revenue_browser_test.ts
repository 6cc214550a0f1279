/**
 * The revenue page in headless Chromium, on the embedded database with the demo data: the
 * movements, churn and trial tables equal the SQL functions' answers, the range round-trips
 * through the URL, the charts hydrate without CSP violations, and a superuser adds and
 * removes an exchange rate from the page (a CSRF-checked POST) with the report following.
 */
import assert from "node:assert/strict";
import { startTestBeacon } from "./support/beacon.ts";
import { buildIslands } from "../hydration/build.ts";
import { launchChromium, missingChromium, skipWithoutChromium } from "./support/browser.ts";
import { addDays, todayUtc } from "../analytics/days.ts";

const missing = await missingChromium();

Deno.test({
  name: "revenue page in Chromium equals the SQL functions; the URL round-trips; rates edit",
  ignore: skipWithoutChromium(missing),
  async fn(t) {
    const islandsDir = await Deno.makeTempDir({ prefix: "beacon-e2e-revenue-" });
    await buildIslands({ outDir: islandsDir });
    const beacon = await startTestBeacon({
      seedDemoData: true,
      ingestKey: "bk_e2e_ingest_key_0123456789",
      islandsDir,
    });
    // The demo data draws its pounds customers at random (seeded, but with dates relative
    // to now, so some starts draw none): one is made sure of, so that the report has a
    // currency without a rate to show apart.
    await beacon.db.query(
      `insert into public.subscriptions (user_id, plan, status, amount_cents, currency, billing_interval, started_at)
       select u.id, 'pro', 'active', 3900, 'GBP', 'month', now() - interval '80 days'
         from auth.users u
        where u.email like 'user%@example.com'
          and not exists (select 1 from public.subscriptions s where s.user_id = u.id)
          and not exists (select 1 from public.subscriptions g where g.currency = 'GBP')
        order by u.created_at
        limit 1`,
    );
    const browser = await launchChromium();
    try {
      const page = await browser.newPage();
      const errors: string[] = [];
      page.on("pageerror", (e) => errors.push(e.message));
      page.on("console", (m) => {
        if (/Content Security Policy/i.test(m.text())) errors.push(m.text());
      });
      const today = todayUtc();
      const from = addDays(today, -59);
      await page.goto(`${beacon.url}/analytics/revenue?from=${from}&to=${today}`);
      await page.getByLabel("Email").fill("admin@beacon.local");
      await page.getByLabel("Password").fill("beacon-demo");
      await page.getByRole("button", { name: "Sign in" }).click();
      await page.waitForURL(/\/analytics\/revenue\?/);

      const movementsTable = async () => {
        const sql = await beacon.db.query<Record<string, string>>(
          `select day::text, new_mrr::text, expansion_mrr::text, reactivation_mrr::text,
                  contraction_mrr::text, churned_mrr::text, net_new_mrr::text, fx_adjustment::text,
                  mrr::text, paying_customers::text, coalesce(arpu::text, '–') as arpu,
                  (select coalesce(string_agg(format('%s %s (%s)', to_char((v ->> 'mrr')::numeric, 'FM999999990.00'),
                                                     k, v ->> 'subscriptions'), ', ' order by k), '')
                     from jsonb_each(unconverted) as u (k, v)) as unconverted
             from analytics.mrr_movements($1::date, $2::date)`,
          [from, today],
        );
        const shown = await page.locator("#revenue-table tbody tr").evaluateAll((trs) =>
          trs.map((tr) => [...tr.children].map((c) => c.textContent).join("|"))
        );
        return { shown, sql: sql.map((r) => Object.values(r).join("|")) };
      };

      await t.step("the movements table is analytics.mrr_movements' answer", async () => {
        const { shown, sql } = await movementsTable();
        assert.equal(shown.length, 60);
        assert.deepEqual(shown, sql);
        assert.ok(sql.some((r) => r.includes("GBP")), "the pounds are shown apart");
        assert.equal(await page.locator("canvas").count(), 2);
      });

      await t.step("churn and trial tables are the SQL functions' answers", async () => {
        const churn = await beacon.db.query<{ r: string }>(
          `select concat_ws('|', to_char(month, 'YYYY-MM'), customers_at_start, churned_customers,
                            coalesce(customer_churn_rate || '%', '–')) as r
             from analytics.revenue_churn($1::date, $2::date)`,
          [from, today],
        );
        const shownChurn = await page.locator("#churn-table tbody tr").evaluateAll((trs) =>
          trs.map((tr) => [...tr.children].slice(0, 4).map((c) => c.textContent).join("|"))
        );
        assert.deepEqual(shownChurn, churn.map((r) => r.r));
        const trials = await beacon.db.query<{ r: string }>(
          `select concat_ws('|', to_char(cohort_month, 'YYYY-MM'), trials, converted, converted_in_trial,
                            converted_late, still_trialing) as r
             from analytics.trial_conversion($1::date, $2::date)`,
          [from, today],
        );
        const shownTrials = await page.locator("#trials-table tbody tr").evaluateAll((trs) =>
          trs.map((tr) => [...tr.children].slice(0, 6).map((c) => c.textContent).join("|"))
        );
        assert.deepEqual(shownTrials, trials.map((r) => r.r));
      });

      await t.step("a new range goes into the URL and comes back from it", async () => {
        const newFrom = addDays(today, -29);
        await page.locator("input[name=from]").fill(newFrom);
        await page.getByRole("button", { name: "Show" }).click();
        await page.waitForURL(new RegExp(`from=${newFrom}`));
        const url = new URL(page.url());
        assert.equal(url.searchParams.get("to"), today);
        await page.goto(url.href);
        assert.equal(await page.locator("input[name=from]").inputValue(), newFrom);
        assert.equal(await page.locator("#revenue-table tbody tr").count(), 30);
      });

      await t.step("a superuser adds and removes an exchange rate from the page", async () => {
        await page.goto(`${beacon.url}/analytics/revenue?from=${from}&to=${today}`);
        const form = page.locator("#rates form.controls");
        await form.locator("input[name=currency]").fill("gbp");
        await form.locator("input[name=rate]").fill("1.25");
        await form.locator("input[name=valid_from]").fill(addDays(today, -9));
        await form.getByRole("button", { name: "Save rate" }).click();
        await page.waitForURL(/#rates$/);
        assert.equal(new URL(page.url()).searchParams.get("from"), from);
        const rows = await beacon.db.query<{ rate: string }>(
          `select rate_to_reporting::text as rate from analytics.exchange_rates where currency = 'GBP'`,
        );
        assert.deepEqual(rows.map((r) => r.rate), ["1.25"]);
        const { shown, sql } = await movementsTable();
        assert.deepEqual(shown, sql);
        assert.ok(!sql.at(-1)!.includes("GBP"), "converted once the rate holds");
        await page.locator("#rates-table tr", { hasText: "GBP" }).getByRole("button", {
          name: "Remove",
        }).click();
        await page.waitForURL(/#rates$/);
        const left = await beacon.db.query(
          `select 1 from analytics.exchange_rates where currency = 'GBP'`,
        );
        assert.equal(left.length, 0);
      });

      await t.step("a bad range is a 400 page naming the field", async () => {
        const res = await page.goto(`${beacon.url}/analytics/revenue?from=2026-02-30`);
        assert.equal(res?.status(), 400);
        await page.getByText("from: must be a date").waitFor();
      });
      assert.deepEqual(errors, []);
    } finally {
      await browser.close();
      await beacon.shutdown();
      await Deno.remove(islandsDir, { recursive: true }).catch(() => {});
    }
  },
});
