/**
 * The SQL page in headless Chromium against a real Beacon with the demo data, signed in as
 * an analyst (profiles.is_analyst): a query against a view renders the rows psql prints, a
 * date + number result draws a line chart (switchable to bars), an error marks its
 * position in the box, the address round-trips, a query is saved; an ordinary user gets 403.
 */
import assert from "node:assert/strict";
import { buildIslands } from "../hydration/build.ts";
import { signInThroughForm, startTestBeacon } from "./support/beacon.ts";
import { launchChromium, missingChromium, skipWithoutChromium } from "./support/browser.ts";

const missing = await missingChromium();
const VIEW_SQL = "select day, events, signups from analytics.daily_overview order by day";

Deno.test({
  name: "the SQL page in Chromium: an analyst's query renders, charts, errors and round-trips",
  ignore: skipWithoutChromium(missing),
  async fn(t) {
    const islandsDir = await Deno.makeTempDir({ prefix: "beacon-e2e-sql-" });
    await buildIslands({ outDir: islandsDir });
    const beacon = await startTestBeacon({
      seedDemoData: true,
      ingestKey: "bk_e2e_ingest_key_0123456789",
      islandsDir,
    });
    const browser = await launchChromium();
    try {
      const [{ id }] = await beacon.db.query<{ id: string }>(
        "select beacon.create_user('ann@analysts.test', 'analyst-password')::text as id",
      );
      await beacon.db.query("update public.profiles set is_analyst = true where id = $1", [id]);
      await beacon.db.query("select beacon.create_user('olive@users.test', 'ordinary-password')");

      const page = await (await browser.newContext({ viewport: { width: 1280, height: 900 } }))
        .newPage();
      page.setDefaultTimeout(120_000);
      const errors: string[] = [];
      page.on("pageerror", (e) => errors.push(e.message));
      page.on("console", (m) => {
        if (m.type() === "error" && !m.text().includes("status of 400")) errors.push(m.text());
      });
      await page.goto(`${beacon.url}/analytics/sql`);
      await page.getByLabel("Email").fill("ann@analysts.test");
      await page.getByLabel("Password").fill("analyst-password");
      await page.getByRole("button", { name: "Sign in" }).click();
      await page.waitForURL(/\/analytics\/sql$/);

      await t.step("a query against a view renders the rows psql prints", async () => {
        await page.getByLabel("Query").fill(VIEW_SQL);
        await page.getByLabel("Query").press("Control+Enter");
        await page.locator("table.sql-result tbody tr").first().waitFor();
        const shown = await page.locator("table.sql-result tbody tr").evaluateAll((trs) =>
          trs.map((tr) => [...tr.querySelectorAll("td")].map((td) => td.textContent))
        );
        const direct = await beacon.db.queryText(VIEW_SQL);
        assert.ok(direct.rows.length > 1, "the demo data has closed days");
        assert.deepEqual(shown, direct.rows.slice(0, 100));
        assert.equal(
          await page.locator("table.sql-result th.num").count(),
          2,
          "the two number columns are right-aligned",
        );
      });

      await t.step("a date + number result draws a line chart, switchable to bars", async () => {
        const drawn = JSON.parse(
          (await page.locator(".sql-chart canvas[data-drawn]").getAttribute("data-drawn"))!,
        );
        const direct = await beacon.db.queryText(VIEW_SQL);
        assert.deepEqual(drawn.labels, direct.rows.map((r) => r[0]));
        assert.deepEqual(drawn.datasets[0].data, direct.rows.map((r) => Number(r[1])));
        assert.equal(await page.locator(".sql-chart").getAttribute("data-type"), "line");
        await page.getByRole("button", { name: "Bar" }).click();
        await page.locator(".sql-chart[data-type=bar] canvas[data-drawn]").waitFor();
      });

      await t.step("the address holds the query and brings it back", async () => {
        const url = new URL(page.url());
        assert.equal(url.searchParams.get("sql"), VIEW_SQL);
        const again = await page.context().newPage();
        await again.goto(url.href);
        await again.locator("table.sql-result tbody tr").first().waitFor();
        assert.equal(await again.getByLabel("Query").inputValue(), VIEW_SQL);
        await again.close();
      });

      await t.step("an error shows PostgreSQL's message and marks its position", async () => {
        await page.getByLabel("Query").fill("select nope from public.events");
        await page.getByRole("button", { name: "Run" }).click();
        await page.locator(".sql-error mark.sql-error-at").waitFor();
        assert.equal(await page.locator("mark.sql-error-at").textContent(), "nope");
        assert.match(await page.locator(".sql-error .error").textContent() ?? "", /nope/);
        const selection = await page.getByLabel("Query").evaluate((el) => {
          const box = el as HTMLTextAreaElement;
          return [box.selectionStart, box.selectionEnd];
        });
        assert.deepEqual(selection, [7, 11]);
      });

      await t.step("a query is saved under a name", async () => {
        await page.getByLabel("Query").fill(VIEW_SQL);
        await page.getByLabel("Save as").fill("Daily events");
        await page.getByRole("button", { name: "Save", exact: true }).click();
        await page.locator(".sql-saved button", { hasText: "Daily events" }).waitFor();
        const [row] = await beacon.db.query<{ sql: string; owner: string }>(
          "select sql, owner::text from analytics.saved_queries where name = 'Daily events'",
        );
        assert.deepEqual(row, { sql: VIEW_SQL, owner: id });
      });

      await t.step("an ordinary user gets 403 from the page and the API", async () => {
        const signIn = await signInThroughForm(beacon.url, {
          email: "olive@users.test",
          password: "ordinary-password",
          next: "/analytics/sql",
        });
        const cookie = signIn.headers.getSetCookie().map((c) => c.split(";")[0]).join("; ");
        const pageAnswer = await fetch(`${beacon.url}/analytics/sql`, { headers: { cookie } });
        assert.equal(pageAnswer.status, 403);
        await pageAnswer.body?.cancel();
        const api = await fetch(`${beacon.url}/api/v1/sql/query`, {
          method: "POST",
          headers: { cookie, "content-type": "application/json" },
          body: JSON.stringify({ sql: "select 1" }),
        });
        assert.equal(api.status, 403);
        await api.body?.cancel();
      });
      assert.deepEqual(errors, []);
    } finally {
      await browser.close();
      await beacon.shutdown();
      await Deno.remove(islandsDir, { recursive: true });
    }
  },
});
