/**
 * The dashboard end to end in headless Chromium, against a real Beacon on the embedded
 * database with the demo data: sign-in, the KPI cards against analytics.summary(), the
 * chart drawn and changed, the explorer's pages and filters, CSV downloads parsed back,
 * the 403 page, a refused password, and a screenshot for a person to look at.
 */
import assert from "node:assert/strict";
import type { Page } from "playwright-core";
import { buildIslands } from "../hydration/build.ts";
import { startTestBeacon } from "./support/beacon.ts";
import {
  launchChromium,
  missingChromium,
  parseCsv,
  skipWithoutChromium,
} from "./support/browser.ts";

const missing = await missingChromium();
const SCREENSHOT = new URL("../.ci/out/screenshots/analytics.png", import.meta.url).pathname;

async function signIn(page: Page, url: string, email: string, password: string) {
  await page.goto(`${url}/analytics`);
  assert.match(page.url(), /\/login\?next=%2Fanalytics$/, "a stranger is sent to the sign-in page");
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
}

Deno.test({
  name: "the dashboard in Chromium: sign-in, cards, chart, explorer, CSV, 403",
  ignore: skipWithoutChromium(missing),
  async fn(t) {
    assert.deepEqual(missing, []);
    const islandsDir = await Deno.makeTempDir({ prefix: "beacon-e2e-islands-" });
    const sizes = await buildIslands({ outDir: islandsDir });
    const beacon = await startTestBeacon({
      seedDemoData: true,
      ingestKey: "bk_e2e_ingest_key_0123456789",
      islandsDir,
    });
    await beacon.db.query("select analytics.run_daily_aggregation()");
    await beacon.db.query(
      "select beacon.create_user('olive@example.com', 'olive-password', false)",
    );
    const browser = await launchChromium();
    try {
      const context = await browser.newContext({
        acceptDownloads: true,
        viewport: { width: 1280, height: 900 },
      });
      const page = await context.newPage();
      const errors: string[] = [];
      page.on("pageerror", (e) => errors.push(e.message));
      const cspViolations: string[] = [];
      page.on("console", (message) => {
        if (/Content Security Policy/i.test(message.text())) cspViolations.push(message.text());
      });

      await t.step("a wrong password is refused", async () => {
        await signIn(page, beacon.url, "admin@beacon.local", "not-the-password");
        await page.getByText("Wrong email or password.").waitFor();
        assert.match(page.url(), /\/login$/);
      });

      await t.step(
        "a superuser sees the KPI cards with the numbers analytics.summary() returns",
        async () => {
          await page.getByLabel("Password").fill("beacon-demo");
          await page.getByRole("button", { name: "Sign in" }).click();
          await page.waitForURL(/\/analytics$/);
          const [summary] = await beacon.db.query<Record<string, string | number>>(
            "select * from analytics.summary()",
          );
          const value = async (label: string) =>
            Number(await page.locator(`[data-kpi="${label}"] .value`).getAttribute("data-value"));
          assert.equal(await value("Total users"), Number(summary.total_users));
          assert.equal(await value("Total signups"), Number(summary.total_signups));
          assert.equal(await value("Active subscriptions"), Number(summary.active_subscriptions));
          assert.equal(await value("Estimated MRR"), Number(summary.mrr_estimate_usd));
          assert.equal(await value("DAU"), Number(summary.dau));
          assert.equal(await value("WAU"), Number(summary.wau));
          assert.equal(await value("MAU"), Number(summary.mau));
          assert.ok(Number(summary.total_users) > 400, "the demo data is there");
          const mrrText = await page.locator('[data-kpi="Estimated MRR"] .value').textContent();
          assert.match(mrrText ?? "", /^\$[\d,]+\.\d{2}$/, "money is formatted");
        },
      );

      await t.step("the chart's canvas is drawn from the first render's data", async () => {
        const painted = await page.locator("canvas").evaluate((canvas: HTMLCanvasElement) => {
          const ctx = canvas.getContext("2d")!;
          const { data } = ctx.getImageData(0, 0, canvas.width, canvas.height);
          let colored = 0;
          for (let i = 3; i < data.length; i += 4) if (data[i] > 0) colored++;
          return { colored, width: canvas.width };
        });
        assert.ok(painted.width > 100);
        assert.ok(painted.colored > 1000, `the canvas has ${painted.colored} painted pixels`);
        assert.equal(
          await page.locator(".chart-card table.data tbody tr").count(),
          30,
          "30 days by day",
        );
        await page.screenshot({ path: SCREENSHOT, fullPage: true });
        console.log(`screenshot of /analytics: ${SCREENSHOT}`);
      });

      await t.step("changing the bucket updates the chart and the URL", async () => {
        await page.getByLabel("Bucket").selectOption("week");
        await page.waitForURL(/bucket=week/);
        await page.waitForFunction(() =>
          document.querySelectorAll(".chart-card table.data tbody tr").length < 8
        );
        const rows = await page.locator(".chart-card table.data tbody tr").count();
        assert.ok(rows >= 5 && rows <= 6, `30 days span 5 or 6 weeks, got ${rows}`);
        assert.match(await page.locator("#chart-title").textContent() ?? "", /by week/);
      });

      await t.step(
        "changing the range reloads with the range in the URL, and a reload keeps the view",
        async () => {
          await page.getByLabel("Range").selectOption("7");
          await page.waitForURL(/range=7/);
          assert.match(page.url(), /bucket=week/);
          await page.getByLabel("Bucket").selectOption("day");
          await page.waitForURL(/bucket=day/);
          await page.waitForFunction(() =>
            document.querySelectorAll(".chart-card table.data tbody tr").length === 7
          );
          await page.reload();
          assert.equal(await page.getByLabel("Range").inputValue(), "7");
          assert.equal(await page.getByLabel("Bucket").inputValue(), "day");
          assert.equal(await page.locator(".chart-card table.data tbody tr").count(), 7);
        },
      );

      await t.step("the series CSV parses back to the series", async () => {
        const [download] = await Promise.all([
          page.waitForEvent("download"),
          page.getByText("Download this series as CSV").click(),
        ]);
        const rows = parseCsv(await Deno.readTextFile((await download.path())!));
        assert.deepEqual(rows[0], ["bucket_start", "events"]);
        const table = await page.locator(".chart-card table.data tbody tr td:first-child .date")
          .allTextContents();
        assert.deepEqual(rows.slice(1).map((r) => r[0]), table);
      });

      await t.step(
        "a slower earlier chart answer never replaces a later one, and the title waits for the data",
        async () => {
          await page.goto(`${beacon.url}/analytics?range=30&metric=events&bucket=day`);
          let release!: () => void;
          const released = new Promise<void>((resolve) => release = resolve);
          let settled!: () => void;
          const slowDone = new Promise<void>((resolve) => settled = resolve);
          await page.route(/\/api\/v1\/analytics\/timeseries\?metric=signups&/, async (route) => {
            await released;
            // The page has aborted this request by now; continuing it may fail.
            await route.continue().catch(() => {});
            settled();
          });
          await page.getByLabel("Metric").selectOption("signups");
          await page.waitForFunction(() =>
            document.querySelector(".chart-card")?.getAttribute("aria-busy") === "true"
          );
          assert.match(
            await page.locator("#chart-title").textContent() ?? "",
            /^Events /,
            "while Signups load, the title still names the data shown",
          );
          assert.equal(
            await page.locator(".chart-card table.data thead th").nth(1).textContent(),
            "Events",
          );
          await page.getByLabel("Metric").selectOption("active_users");
          await page.waitForFunction(() =>
            document.querySelector(".chart-card")?.getAttribute("aria-busy") === "false"
          );
          assert.match(await page.locator("#chart-title").textContent() ?? "", /^Active users /);
          release();
          await slowDone;
          // Let any late answer reach the page and render.
          await page.evaluate(() =>
            new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)))
          );
          await page.unroute(/\/api\/v1\/analytics\/timeseries/);
          const expected = await page.evaluate(async () => {
            const q = new URLSearchParams(location.search);
            const res = await fetch(
              `/api/v1/analytics/timeseries?metric=active_users&bucket=day&from=${
                document.querySelector("#chart-title .date")!.textContent
              }&to=${document.querySelectorAll("#chart-title .date")[1].textContent}`,
            );
            return { series: (await res.json()).series, metric: q.get("metric") };
          });
          assert.equal(expected.metric, "active_users", "the address names the latest choice");
          assert.match(await page.locator("#chart-title").textContent() ?? "", /^Active users /);
          const shown = await page.locator(".chart-card table.data tbody tr td.num")
            .allTextContents();
          assert.deepEqual(
            shown,
            expected.series.map((p: { value: number | null }) =>
              p.value === null ? "—" : new Intl.NumberFormat("en-US").format(p.value)
            ),
            "the table holds the active users series, not the late signups one",
          );
        },
      );

      await t.step(
        "KPI values and dates never wrap inside, at 1280, 1024, 768 and 375 px",
        async () => {
          for (const width of [1280, 1024, 768, 375]) {
            await page.setViewportSize({ width, height: 900 });
            await page.goto(`${beacon.url}/analytics`);
            const report = await page.locator(".kpi .value, .date").evaluateAll((els) =>
              els.map((el) => {
                const range = document.createRange();
                range.selectNodeContents(el);
                const lines = new Set([...range.getClientRects()].map((r) => Math.round(r.top)));
                const card = el.closest(".card") ?? document.body;
                const style = getComputedStyle(card);
                const inner = card.getBoundingClientRect().right - parseFloat(style.paddingRight);
                return {
                  kpi: el.classList.contains("value"),
                  text: el.textContent,
                  lines: lines.size,
                  overflows: el.scrollWidth > el.clientWidth + 1 ||
                    range.getBoundingClientRect().right > inner + 1,
                };
              })
            );
            assert.equal(report.filter((r) => r.kpi).length, 7, "seven KPI values");
            for (const r of report) {
              assert.equal(r.lines, 1, `${width}px: "${r.text}" is on ${r.lines} lines`);
              assert.ok(!r.overflows, `${width}px: "${r.text}" overflows its card`);
            }
            if (width === 1280 || width === 375) {
              const path = SCREENSHOT.replace(/\.png$/, `-${width}.png`);
              await page.screenshot({ path, fullPage: true });
              console.log(`screenshot of /analytics at ${width} px: ${path}`);
            }
          }
          await page.setViewportSize({ width: 1280, height: 900 });
        },
      );

      await t.step(
        "today is marked partial and the days after it are not drawn as zeros",
        async () => {
          const [{ today }] = await beacon.db.query<{ today: string }>(
            "select ((now() at time zone 'UTC')::date)::text as today",
          );
          const day = (n: number) =>
            new Date(Date.parse(`${today}T00:00:00Z`) + n * 86_400_000).toISOString().slice(0, 10);
          await page.goto(
            `${beacon.url}/analytics?metric=events&bucket=day&from=${day(-3)}&to=${day(2)}`,
          );
          const rows = await page.locator(".chart-card table.data tbody tr").evaluateAll((trs) =>
            trs.map((tr) => ({
              bucket: tr.querySelector(".date")!.textContent,
              incomplete: tr.hasAttribute("data-incomplete"),
              value: tr.querySelector("td.num")!.textContent,
            }))
          );
          assert.deepEqual(rows.map((r) => r.incomplete), [false, false, false, true, true, true]);
          assert.equal(rows[3].bucket, today);
          assert.notEqual(rows[3].value, "—", "today has its number so far");
          assert.deepEqual(rows.slice(4).map((r) => r.value), ["—", "—"]);
          assert.ok(await page.locator("[data-partial-note]").isVisible());
        },
      );

      await t.step(
        "typing a custom date with the keyboard does not reload; From after To is shown beside the field",
        async () => {
          await page.goto(`${beacon.url}/analytics?range=30&metric=events&bucket=day`);
          await page.evaluate(() => Object.assign(window, { __sameDocument: true }));
          const sameDocument = () =>
            page.evaluate(() => (window as unknown as { __sameDocument?: boolean }).__sameDocument);
          await page.getByLabel("Range").selectOption("custom");
          const typeDate = async (label: string, iso: string) => {
            const [y, m, d] = iso.split("-");
            await page.getByLabel(label, { exact: true }).click();
            await page.keyboard.press("ArrowLeft"); // to the month part, whatever was clicked
            await page.keyboard.press("ArrowLeft");
            await page.keyboard.type(`${m}${d}${y}`, { delay: 20 });
          };
          await typeDate("From", "2026-10-05");
          await typeDate("To", "2026-10-01");
          assert.equal(await page.getByLabel("From", { exact: true }).inputValue(), "2026-10-05");
          assert.equal(await page.getByLabel("To", { exact: true }).inputValue(), "2026-10-01");
          assert.equal(await sameDocument(), true, "typing reloaded nothing");
          await page.getByRole("button", { name: "Apply" }).click();
          const error = page.locator("#range-error");
          assert.match(
            await error.textContent() ?? "",
            /From must be on or before To \(2026-10-01\)/,
          );
          assert.equal(await error.getAttribute("data-field"), "from");
          assert.equal(
            await page.getByLabel("From", { exact: true }).getAttribute("aria-invalid"),
            "true",
          );
          assert.equal(await sameDocument(), true, "a bad range replaced nothing");
          assert.ok(
            await page.locator('[data-kpi="Total users"]').isVisible(),
            "the dashboard stays",
          );
          await typeDate("To", "2026-10-20");
          await Promise.all([
            page.waitForURL(/from=2026-10-05&to=2026-10-20/),
            page.getByRole("button", { name: "Apply" }).click(),
          ]);
          assert.match(
            await page.locator("#chart-title").textContent() ?? "",
            /2026-10-05 to 2026-10-20/,
          );
        },
      );

      await t.step("the explorer paginates newest first, and filters", async () => {
        await page.goto(`${beacon.url}/analytics/events`);
        const ids = () =>
          page.locator("details[data-event-id]").evaluateAll((els) =>
            els.map((e) => e.getAttribute("data-event-id"))
          );
        const first = await ids();
        assert.equal(first.length, 50);
        const [expected] = await beacon.db.query<{ ids: string[] }>(
          `select array_agg(id::text order by "timestamp" desc, id desc) as ids
             from (select id, "timestamp" from public.events order by "timestamp" desc, id desc limit 100) e`,
        );
        assert.deepEqual(first, expected.ids.slice(0, 50));
        await page.getByRole("link", { name: "Older »" }).click();
        assert.deepEqual(await ids(), expected.ids.slice(50, 100));
        await page.locator("details[data-event-id] summary").first().click();
        assert.ok(
          await page.locator("details[open] pre").first().isVisible(),
          "a row expands to its payload",
        );
        await page.goto(`${beacon.url}/analytics/events`);
        await page.getByLabel("Event type").selectOption("user_signup");
        await page.getByRole("button", { name: "Filter" }).click();
        await page.waitForURL(/type=user_signup/);
        const types = await page.locator("details[data-event-id] summary strong").allTextContents();
        assert.ok(types.length > 0 && types.every((x) => x === "user_signup"));
      });

      await t.step("the filtered events CSV parses back to the same rows", async () => {
        const [download] = await Promise.all([
          page.waitForEvent("download"),
          page.getByText("Download these events as CSV").click(),
        ]);
        const rows = parseCsv(await Deno.readTextFile((await download.path())!));
        assert.deepEqual(rows[0], [
          "id",
          "timestamp",
          "received_at",
          "event_type",
          "user_id",
          "anonymous_id",
          "payload",
        ]);
        const db = await beacon.db.query<{ id: string; payload: string }>(
          `select id::text, payload::text from public.events where event_type = 'user_signup'
            order by "timestamp" desc, id desc`,
        );
        assert.equal(rows.length - 1, db.length);
        assert.deepEqual(rows.slice(1).map((r) => r[0]), db.map((r) => r.id));
        assert.deepEqual(
          JSON.parse(rows[1][6]),
          JSON.parse(db[0].payload),
          "JSON payloads survive quoting",
        );
      });

      await t.step("an ordinary user gets the 403 page", async () => {
        const other = await browser.newPage();
        await signIn(other, beacon.url, "olive@example.com", "olive-password");
        await other.getByText("You are signed in, but not as a superuser").waitFor();
        const response = await other.goto(`${beacon.url}/analytics`);
        assert.equal(response?.status(), 403);
        await other.close();
      });

      assert.deepEqual(errors, [], "no script errors on any page");
      assert.deepEqual(cspViolations, [], "the Content-Security-Policy blocked nothing");
      const perPage = sizes.reduce((sum, f) => sum + f.gzipBytes, 0);
      console.log(`JavaScript shipped by /analytics: ${(perPage / 1024).toFixed(1)} KB gzipped`);
      assert.ok(perPage < 100 * 1024, "under 100 KB of JavaScript gzipped");
    } finally {
      await browser.close();
      await beacon.shutdown();
      await Deno.remove(islandsDir, { recursive: true });
    }
  },
});
