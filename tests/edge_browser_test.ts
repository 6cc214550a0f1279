/**
 * The dashboard served by the Supabase function (pages on, as with a custom domain), in
 * headless Chromium, through a stand-in for Supabase's gateway that maps
 * `/functions/v1/beacon/...` to the function's `/beacon/...`: sign-in with Supabase Auth (the
 * GoTrue stand-in), the islands hydrated from bundles under the prefix, the chart's own
 * requests to the JSON API under it, and no request leaving it.
 */
import assert from "node:assert/strict";
import { buildIslands } from "../hydration/build.ts";
import { launchChromium, missingChromium, skipWithoutChromium } from "./support/browser.ts";
import { missingPostgres15 } from "./support/postgres15.ts";
import { startMigratedPostgres15 } from "./support/database.ts";
import { FAKE_AUTH_USER_ID, fakeSupabaseAuth } from "./support/fake_supabase_auth.ts";
import { startEdgeFunction } from "./support/edge_function.ts";

const PUBLIC = "/functions/v1/beacon";

/** Supabase's gateway, for one function: `/functions/v1/beacon/x` → `<function>/beacon/x`. */
function gateway(functionOrigin: string) {
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
    const url = new URL(req.url);
    if (!url.pathname.startsWith(`${PUBLIC}/`) && url.pathname !== PUBLIC) {
      return new Response("not a function", { status: 404 });
    }
    const target = `${functionOrigin}${url.pathname.slice("/functions/v1".length)}${url.search}`;
    const headers = new Headers(req.headers);
    headers.set("host", url.host); // the gateway keeps the host the browser asked for
    const res = await fetch(target, {
      method: req.method,
      headers,
      body: req.body,
      redirect: "manual",
    });
    // Deno's fetch has decoded the body already: say so to the browser.
    const back = new Headers(res.headers);
    back.delete("content-encoding");
    back.delete("content-length");
    return new Response(res.body, { status: res.status, headers: back });
  });
  return { url: `http://127.0.0.1:${server.addr.port}`, close: () => server.shutdown() };
}

const missing = [...await missingChromium(), ...await missingPostgres15()];
Deno.test({
  name: "the function's dashboard in Chromium under /functions/v1/beacon: sign-in, islands, chart",
  ignore: skipWithoutChromium(missing),
  async fn() {
    assert.deepEqual(missing, []);
    const { pg, db } = await startMigratedPostgres15();
    const auth = await fakeSupabaseAuth();
    const islandsDir = await Deno.makeTempDir({ prefix: "beacon-edge-browser-" });
    try {
      await buildIslands({ outDir: islandsDir });
      await db.query(
        "insert into auth.users (id, email, created_at) values ($1, 'sam@supabase.test', now())",
        [FAKE_AUTH_USER_ID],
      );
      await db.query("update public.profiles set is_superuser = true where id = $1", [
        FAKE_AUTH_USER_ID,
      ]);
      const fn = await startEdgeFunction({
        SUPABASE_DB_URL: pg.url,
        SUPABASE_URL: auth.url,
        SUPABASE_ANON_KEY: "sb_publishable_test",
        BEACON_INGEST_KEY: "bk_edge_browser_key_0123456789",
        BEACON_ISLANDS_DIR: islandsDir,
        BEACON_SERVE_PAGES: "true",
      });
      const gw = gateway(fn.origin);
      const browser = await launchChromium();
      try {
        const page = await (await browser.newContext()).newPage();
        const errors: string[] = [];
        const requested: string[] = [];
        page.on("pageerror", (e) => errors.push(e.message));
        page.on("console", (m) => m.type() === "error" && errors.push(m.text()));
        page.on("request", (r) => requested.push(new URL(r.url()).pathname));

        await page.goto(`${gw.url}${PUBLIC}/analytics`);
        assert.equal(new URL(page.url()).pathname, `${PUBLIC}/login`, "sent to sign in");
        await page.getByLabel("Email").fill("sam@supabase.test");
        await page.getByLabel("Password").fill("right-password");
        await page.getByRole("button", { name: "Sign in" }).click();
        await page.waitForURL(`${gw.url}${PUBLIC}/analytics`);

        // The chart island hydrates (its bundles load from under the prefix) and draws.
        await page.locator("canvas").waitFor();
        await page.getByLabel("Bucket").selectOption("week");
        await page.waitForURL(/bucket=week/);
        await page.waitForFunction(() =>
          document.querySelectorAll(".chart-card table.data tbody tr").length < 8
        );
        assert.ok(
          requested.some((p) => p === `${PUBLIC}/api/v1/analytics/timeseries`),
          "the chart asked the JSON API under the prefix",
        );
        assert.ok(requested.some((p) => p.startsWith(`${PUBLIC}/_islands/`)), "bundles loaded");
        const outside = requested.filter((p) => !p.startsWith(`${PUBLIC}/`));
        assert.deepEqual(outside, [], "no request left the function's path");

        await page.getByRole("link", { name: "Events", exact: true }).click();
        await page.waitForURL(`${gw.url}${PUBLIC}/analytics/events`);
        await page.getByRole("button", { name: "Sign out" }).click();
        await page.waitForURL(`${gw.url}${PUBLIC}/login`);
        assert.deepEqual(errors, []);
      } finally {
        await browser.close();
        await gw.close();
        await fn.stop();
      }
    } finally {
      await auth.close();
      await Deno.remove(islandsDir, { recursive: true });
      await db.close();
      await pg.stop();
    }
  },
});
