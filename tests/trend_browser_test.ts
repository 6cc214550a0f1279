/**
 * The trends page in headless Chromium against a real Beacon with the demo data: a
 * two-series formula with a breakdown built in the form lands in the URL, the chart draws
 * exactly what analytics.trend answers for that definition, the table holds the same rows,
 * the URL round-trips, a refused definition names its field, and a superuser tracks a
 * property from the page.
 */
import assert from "node:assert/strict";
import { buildIslands } from "../hydration/build.ts";
import { startTestBeacon } from "./support/beacon.ts";
import { launchChromium, missingChromium, skipWithoutChromium } from "./support/browser.ts";

const missing = await missingChromium();

interface Drawn {
  labels: string[];
  datasets: Array<{ label: string; data: Array<number | null> }>;
}

Deno.test({
  name: "the trends page in Chromium: a formula with a breakdown charts what the SQL answers",
  ignore: skipWithoutChromium(missing),
  async fn(t) {
    // Its own build: a clean checkout has no bundles until someone builds them.
    const islandsDir = await Deno.makeTempDir({ prefix: "beacon-e2e-trends-" });
    await buildIslands({ outDir: islandsDir });
    const beacon = await startTestBeacon({
      seedDemoData: true,
      ingestKey: "bk_e2e_ingest_key_0123456789",
      islandsDir,
    });
    const browser = await launchChromium();
    try {
      const page = await (await browser.newContext({ viewport: { width: 1280, height: 900 } }))
        .newPage();
      page.setDefaultTimeout(120_000);
      const errors: string[] = [];
      page.on("pageerror", (e) => errors.push(e.message));
      page.on("console", (m) => {
        // The refused definition's page is a 400 on purpose.
        if (m.type() === "error" && !m.text().includes("status of 400")) errors.push(m.text());
      });
      await page.goto(`${beacon.url}/analytics/trends`);
      await page.getByLabel("Email").fill("admin@beacon.local");
      await page.getByLabel("Password").fill("beacon-demo");
      await page.getByRole("button", { name: "Sign in" }).click();
      await page.waitForURL(/\/analytics\/trends$/);
      await page.getByText("Choose at least one series").waitFor();

      await t.step("a two-series formula with a breakdown, built in the form", async () => {
        await page.getByLabel("Series A event").fill("task_started");
        await page.getByLabel("Series B event").fill("task_completed");
        await page.getByLabel("Formula").fill("B / A * 100");
        await page.getByLabel("Breakdown").fill("task");
        await page.getByLabel("Top").fill("3");
        await page.getByRole("button", { name: "Show" }).click();
        await page.waitForURL(/formula=/);
        const url = new URL(page.url());
        assert.equal(url.searchParams.get("event1"), "task_started");
        assert.equal(url.searchParams.get("event2"), "task_completed");
        assert.equal(url.searchParams.get("breakdown"), "task");

        await page.locator("canvas[data-drawn]").waitFor();
        const drawn: Drawn = JSON.parse(
          (await page.locator("canvas[data-drawn]").getAttribute("data-drawn"))!,
        );
        const rows = await beacon.db.query<
          { label: string; breakdown_value: string; bucket_index: number; value: string | null }
        >(
          `select label, breakdown_value, bucket_index, value::text
             from analytics.trend($1::text::jsonb) where period = 'current'`,
          [JSON.stringify({
            series: [{ event: "task_started" }, { event: "task_completed" }],
            from: url.searchParams.get("from"),
            to: url.searchParams.get("to"),
            breakdown: "task",
            breakdown_top: 3,
            formula: "B / A * 100",
          })],
        );
        const expected = new Map<string, Array<number | null>>();
        for (const r of rows) {
          const name = `${r.label} · ${r.breakdown_value}`;
          const line = expected.get(name) ?? Array(drawn.labels.length).fill(null);
          line[r.bucket_index] = r.value === null ? null : Number(r.value);
          expected.set(name, line);
        }
        assert.equal(drawn.labels.length, 30, "30 days by day");
        assert.deepEqual(
          drawn.datasets.map((d) => d.label).sort(),
          [...expected.keys()].sort(),
          "a line per series and value: A, B and the formula by the top 3 tasks and (other)",
        );
        assert.ok(drawn.datasets.some((d) => d.label.startsWith("Formula: B / A * 100 · ")));
        for (const d of drawn.datasets) {
          assert.deepEqual(d.data, expected.get(d.label), `the chart's ${d.label}`);
        }
        assert.ok(
          drawn.datasets.some((d) => d.label.startsWith("Formula") && d.data.some((v) => v! > 0)),
          "the completion rate shows something",
        );
        const tableRows = await page.locator("#trend-table tbody tr").count();
        assert.equal(tableRows, rows.length, "the table holds every row of the answer");
      });

      await t.step("the URL round-trips", async () => {
        const url = page.url();
        await page.goto(url);
        assert.equal(await page.getByLabel("Series A event").inputValue(), "task_started");
        assert.equal(await page.getByLabel("Series B event").inputValue(), "task_completed");
        assert.equal(await page.getByLabel("Formula").inputValue(), "B / A * 100");
        assert.equal(await page.getByLabel("Breakdown").inputValue(), "task");
        assert.equal(page.url(), url);
      });

      await t.step("a refused definition names its field", async () => {
        const res = await page.goto(
          `${beacon.url}/analytics/trends?event1=task_started&math1=p90`,
        );
        assert.equal(res!.status(), 400);
        const field = await page.locator(".field-error").getAttribute("data-field");
        assert.equal(field, "series[1].property");
      });

      await t.step("a superuser tracks a property from the page", async () => {
        await page.goto(`${beacon.url}/analytics/trends`);
        await page.getByLabel("Event type").fill("api_call");
        await page.getByLabel("Property", { exact: true }).fill("method");
        await page.getByRole("button", { name: "Track" }).click();
        await page.locator("#tracked", { hasText: "method" }).waitFor();
        const [row] = await beacon.db.query<{ n: number }>(
          `select count(*)::int as n from analytics.property_days where event_type = 'api_call' and property = 'method'`,
        );
        assert.ok(row.n > 0, "its closed days are rolled up at once");
      });
      assert.deepEqual(errors, [], "no script errors or CSP violations");
    } finally {
      await browser.close();
      await beacon.shutdown();
      await Deno.remove(islandsDir, { recursive: true }).catch(() => {});
    }
  },
});
