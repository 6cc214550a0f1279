/**
 * The funnels page in headless Chromium against a real Beacon with the demo data: the
 * named funnels' tables equal analytics.funnel's answer, a definition typed into the form
 * lands in the URL and comes back from it, drop-offs link to the explorer, and an empty or
 * refused definition gets a message rather than an error.
 */
import assert from "node:assert/strict";
import type { Page } from "playwright-core";
import { startTestBeacon } from "./support/beacon.ts";
import { launchChromium, missingChromium, skipWithoutChromium } from "./support/browser.ts";
import type { Database } from "../database/mod.ts";

const missing = await missingChromium();

async function tableRows(page: Page): Promise<string[][]> {
  return await page.locator("#funnel-table tbody tr").evaluateAll((rows) =>
    rows.map((r) => [...r.querySelectorAll("td")].map((td) => (td.textContent ?? "").trim()))
  );
}

async function sqlRows(db: Database, steps: string, window: string): Promise<string[][]> {
  const rows = await db.query<{ step: number; persons: string; conv: string | null }>(
    `select step, persons::text, conversion_from_previous::text as conv
       from analytics.funnel($1::text::jsonb, (now() at time zone 'UTC')::date - 29, (now() at time zone 'UTC')::date, $2::interval)
      where breakdown_rank = 0 order by step`,
    [steps, window],
  );
  return rows.map((
    r,
  ) => [
    String(r.step),
    r.persons,
    r.conv === null ? "–" : `${(Number(r.conv) * 100).toFixed(1)}%`,
  ]);
}

Deno.test({
  name: "the funnels page in Chromium: named funnels equal the SQL, the URL round-trips",
  ignore: skipWithoutChromium(missing),
  async fn(t) {
    const beacon = await startTestBeacon({
      seedDemoData: true,
      ingestKey: "bk_e2e_ingest_key_0123456789",
    });
    const browser = await launchChromium();
    try {
      const page = await (await browser.newContext({ viewport: { width: 1280, height: 900 } }))
        .newPage();
      const errors: string[] = [];
      page.on("pageerror", (e) => errors.push(e.message));
      await page.goto(`${beacon.url}/analytics/funnels`);
      await page.getByLabel("Email").fill("admin@beacon.local");
      await page.getByLabel("Password").fill("beacon-demo");
      await page.getByRole("button", { name: "Sign in" }).click();
      await page.waitForURL(/\/analytics\/funnels$/);

      await t.step("an empty definition asks for steps", async () => {
        await page.getByText("Choose 2 to 10 steps").waitFor();
      });

      for (
        const [title, name] of [["Lead to customer", "lead-to-customer"], [
          "Trial to paid",
          "trial-to-paid",
        ]]
      ) {
        await t.step(
          `${title} is one click away and its table equals analytics.funnel`,
          async () => {
            await page.getByRole("link", { name: title }).click();
            await page.waitForURL(new RegExp(`funnel=${name}`));
            const [def] = await beacon.db.query<{ steps: string; w: string }>(
              "select steps::text as steps, conversion_window::text as w from analytics.named_funnels() where name = $1",
              [name],
            );
            const expected = await sqlRows(beacon.db, def.steps, def.w);
            const shown = (await tableRows(page)).map((r) => [r[0].split(".")[0], r[1], r[2]]);
            assert.deepEqual(shown, expected);
            assert.ok(Number(expected[0][1]) > 0, `${title}: the demo data fills it`);
            assert.ok(Number(expected[expected.length - 1][1]) > 0, `${title}: someone converts`);
          },
        );
      }

      await t.step(
        "a definition typed into the form lands in the URL and comes back from it",
        async () => {
          await page.goto(`${beacon.url}/analytics/funnels`);
          const steps = page.locator('input[name="step"]');
          await steps.nth(0).fill("page_view");
          await steps.nth(1).fill("feature_used");
          await steps.nth(2).fill("checkout_started");
          await page.locator('input[name="filter"]').first().fill("2:feature:in:reports,export");
          await page.locator('input[name="window"]').fill("7d");
          await page.getByRole("button", { name: "Show funnel" }).click();
          await page.waitForURL(/step=page_view/);
          const url = new URL(page.url());
          assert.deepEqual(url.searchParams.getAll("step").filter((s) => s), [
            "page_view",
            "feature_used",
            "checkout_started",
          ]);
          assert.deepEqual(url.searchParams.getAll("filter").filter((s) => s), [
            "2:feature:in:reports,export",
          ]);
          const first = await tableRows(page);
          const expected = await sqlRows(
            beacon.db,
            JSON.stringify([
              { event: "page_view" },
              {
                event: "feature_used",
                filters: [{ property: "feature", op: "in", value: ["reports", "export"] }],
              },
              { event: "checkout_started" },
            ]),
            "7 days",
          );
          assert.deepEqual(first.map((r) => [r[0].split(".")[0], r[1], r[2]]), expected);
          await page.goto(url.toString());
          assert.deepEqual(await tableRows(page), first, "the same URL shows the same funnel");
          assert.equal(
            await page.locator('input[name="filter"]').first().inputValue(),
            "2:feature:in:reports,export",
          );
          assert.equal(await page.locator('input[name="window"]').inputValue(), "7d");
        },
      );

      await t.step("drop-offs list persons with links to the explorer", async () => {
        await page.locator("#funnel-table tbody tr").nth(1).locator("a").click();
        await page.waitForURL(/dropped_at=2/);
        const link = page.locator("#dropoffs a").first();
        const href = await link.getAttribute("href");
        assert.match(href ?? "", /^\/analytics\/events\?(user_id|anonymous_id)=/);
        await link.click();
        await page.waitForURL(/\/analytics\/events\?/);
        assert.ok(
          await page.locator("details[data-event-id]").count() > 0,
          "the explorer shows the person's events",
        );
      });

      await t.step("a refused definition is shown beside the form with 400", async () => {
        const res = await page.goto(
          `${beacon.url}/analytics/funnels?step=a&step=b&filter=1:x:like:y`,
        );
        assert.equal(res?.status(), 400);
        await page.getByRole("alert").getByText("op must be one of").waitFor();
      });
      assert.deepEqual(errors, []);
    } finally {
      await browser.close();
      await beacon.shutdown();
    }
  },
});
