/**
 * The retention and lifecycle pages in headless Chromium, on the embedded database with the
 * demo data (plus anonymous visits linked at sign-up): the cohort table equals
 * analytics.retention's answer, the lifecycle table equals analytics.lifecycle's, the
 * definitions round-trip through the URL, the charts hydrate without CSP violations.
 */
import assert from "node:assert/strict";
import { startTestBeacon } from "./support/beacon.ts";
import { buildIslands } from "../hydration/build.ts";
import { launchChromium, missingChromium, skipWithoutChromium } from "./support/browser.ts";

const missing = await missingChromium();

Deno.test({
  name: "retention and lifecycle pages in Chromium equal the SQL functions; the URL round-trips",
  ignore: skipWithoutChromium(missing),
  async fn(t) {
    const islandsDir = await Deno.makeTempDir({ prefix: "beacon-e2e-retention-" });
    await buildIslands({ outDir: islandsDir });
    const beacon = await startTestBeacon({
      seedDemoData: true,
      ingestKey: "bk_e2e_ingest_key_0123456789",
      islandsDir,
    });
    // Every demo user browsed anonymously the day before signing up, and was linked then.
    await beacon.db.query(
      `insert into public.events (event_type, anonymous_id, "timestamp")
       select 'page_view', 'visit-' || e.user_id, e."timestamp" - interval '1 day'
         from public.events e where e.event_type = 'user_signup'`,
    );
    await beacon.db.query(
      `insert into public.events (event_type, user_id, anonymous_id, "timestamp")
       select 'page_view', e.user_id, 'visit-' || e.user_id, e."timestamp" + interval '1 hour'
         from public.events e where e.event_type = 'user_signup'`,
    );
    await beacon.db.query("select analytics.run_daily_aggregation()");
    const browser = await launchChromium();
    try {
      const page = await browser.newPage();
      const errors: string[] = [];
      page.on("pageerror", (e) => errors.push(e.message));
      page.on("console", (m) => {
        if (/Content Security Policy/i.test(m.text())) errors.push(m.text());
      });
      await page.goto(`${beacon.url}/analytics/retention`);
      await page.getByLabel("Email").fill("admin@beacon.local");
      await page.getByLabel("Password").fill("beacon-demo");
      await page.getByRole("button", { name: "Sign in" }).click();
      await page.waitForURL(/\/analytics\/retention$/);

      await t.step("the cohort table is analytics.retention's answer", async () => {
        const from = await page.locator("input[name=from]").inputValue();
        const sql = await beacon.db.query<{ r: string }>(
          `select concat_ws('|', coalesce(cohort_start::text, 'average'), period_offset, retained) as r
             from analytics.retention($1::date, 12, 'week')`,
          [from],
        );
        const shown = await page.locator("#retention-table td[data-offset]").evaluateAll((tds) =>
          tds.map((td) =>
            [
              td.closest("tr")!.getAttribute("data-cohort"),
              td.getAttribute("data-offset"),
              td.getAttribute("data-retained"),
            ].join("|")
          )
        );
        assert.deepEqual(shown, sql.map((r) => r.r));
        assert.ok(sql.some((r) => r.r.startsWith("average|1|") && !r.r.endsWith("|0")));
        await page.locator("canvas").first().waitFor();
      });

      await t.step("a new definition goes into the URL and comes back from it", async () => {
        await page.locator("select[name=period]").selectOption("day");
        await page.locator("input[name=periods]").fill("10");
        await page.locator("input[name=return]").fill("page_view");
        await page.getByRole("button", { name: "Show" }).click();
        await page.waitForURL(/period=day/);
        const url = new URL(page.url());
        assert.equal(url.searchParams.get("periods"), "10");
        assert.equal(url.searchParams.get("return"), "page_view");
        await page.goto(url.href);
        assert.equal(await page.locator("select[name=period]").inputValue(), "day");
        assert.equal(await page.locator("input[name=return]").inputValue(), "page_view");
        const rows = await page.locator("#retention-table tbody tr").count();
        assert.equal(rows, 11, "ten daily cohorts and the average");
      });

      await t.step("the lifecycle table is analytics.lifecycle's answer", async () => {
        await page.goto(`${beacon.url}/analytics/lifecycle?range=30&bucket=week`);
        const sql = await beacon.db.query<
          { bucket_start: string; status: string; persons: number }
        >(
          `select bucket_start::text, status, persons::int
             from analytics.lifecycle((now() at time zone 'UTC')::date - 29,
                                      (now() at time zone 'UTC')::date, null, 'week')`,
        );
        const shown = await page.locator("#lifecycle-table tbody tr").evaluateAll((trs) =>
          trs.map((tr) => [...tr.children].map((c) => c.textContent).join("|"))
        );
        const expected = [...new Set(sql.map((r) => r.bucket_start))].map((b) =>
          [
            b,
            ...["new", "returning", "resurrecting", "dormant"].map((s) =>
              String(sql.find((r) => r.bucket_start === b && r.status === s)!.persons)
            ),
          ].join("|")
        );
        assert.deepEqual(shown, expected);
        assert.equal(await page.locator("select[name=bucket]").inputValue(), "week");
        assert.equal(await page.locator("canvas").count(), 2);
      });

      await t.step("a bad definition is a 400 page naming the field", async () => {
        const res = await page.goto(`${beacon.url}/analytics/retention?period=year`);
        assert.equal(res?.status(), 400);
        await page.getByText("period: must be day, week or month").waitFor();
      });
      assert.deepEqual(errors, []);
    } finally {
      await browser.close();
      await beacon.shutdown();
    }
  },
});
