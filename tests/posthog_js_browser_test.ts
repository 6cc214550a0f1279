/**
 * The real posthog-js (its npm package's browser bundle) in Debian's Chromium, on a page of
 * another origin, with `api_host` set to a Beacon started by the test and a client clock one
 * hour fast: a pageview, a capture, an autocaptured click, identify after anonymous events,
 * an event by sendBeacon, a reload, reset. The stored rows then equal what the
 * SDK was told (recorded by its `before_send` hook): ids, types, payloads, persons and
 * linked ids, timestamps corrected for the clock; and the console shows no error or warning.
 */
import assert from "node:assert/strict";
import { startTestBeacon } from "./support/beacon.ts";
import { launchChromium, missingChromium, skipWithoutChromium } from "./support/browser.ts";
import { postHogJsBundle } from "./support/posthog_js.ts";
import { createUser } from "./support/app.ts";
import type { StoredRow } from "./support/posthog_capture.ts";

const missing = await missingChromium();
const KEY = "bk_posthog_js_key_0123456789";
const SKEW_MS = 3600_000;
const USER_AGENT =
  "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/140.0.0.0 Safari/537.36";

/** A client clock SKEW_MS fast: every `Date` without arguments, and `Date.now()`. */
const SKEWED_CLOCK = `(() => {
  const Real = Date;
  function Skewed(...args) {
    if (!new.target) return new Real(Real.now() + ${SKEW_MS}).toString();
    return args.length ? new Real(...args) : new Real(Real.now() + ${SKEW_MS});
  }
  Skewed.now = () => Real.now() + ${SKEW_MS};
  Skewed.parse = Real.parse;
  Skewed.UTC = Real.UTC;
  Skewed.prototype = Real.prototype;
  globalThis.Date = Skewed;
})();`;

function page(beaconUrl: string): string {
  return `<!doctype html>
<html><head><meta charset="utf-8"><link rel="icon" href="data:,"><title>Shop</title>
<script src="/array.full.js"></script>
<script>
  posthog.init(${JSON.stringify(KEY)}, {
    api_host: ${JSON.stringify(beaconUrl)},
    // Headless Chromium says so in navigator.userAgentData and navigator.webdriver.
    opt_out_useragent_filter: true,
    before_send: (event) => {
      const sent = JSON.parse(localStorage.getItem("__sent") || "[]");
      sent.push(JSON.parse(JSON.stringify(event)));
      localStorage.setItem("__sent", JSON.stringify(sent));
      return event;
    },
  });
</script></head>
<body><h1>Shop</h1><button id="buy">Buy now</button></body></html>`;
}

/** posthog-js's global, as the page's scripts see it. */
interface PostHogPage {
  posthog: {
    __loaded?: boolean;
    get_distinct_id(): string;
    capture(
      event: string,
      properties?: Record<string, unknown>,
      options?: { transport: "sendBeacon" },
    ): void;
    identify(id: string, set?: Record<string, unknown>, setOnce?: Record<string, unknown>): void;
    reset(): void;
  };
}

interface SentEvent {
  uuid: string;
  event: string;
  properties: Record<string, unknown>;
  timestamp: string;
  $set?: Record<string, unknown>;
  $set_once?: Record<string, unknown>;
}

Deno.test({
  name:
    "posthog-js in Chromium against Beacon: the stored rows equal what the SDK was told, persons linked, clock corrected, no console errors",
  ignore: skipWithoutChromium(missing),
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const { script } = await postHogJsBundle();
    const beacon = await startTestBeacon({ ingestKey: KEY });
    const site = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (req) => {
      const path = new URL(req.url).pathname;
      if (path === "/array.full.js") {
        return new Response(script, { headers: { "content-type": "text/javascript" } });
      }
      return new Response(page(beacon.url), { headers: { "content-type": "text/html" } });
    });
    const siteUrl = `http://127.0.0.1:${site.addr.port}/`;
    const browser = await launchChromium();
    try {
      const userId = await createUser(beacon.db, "shopper@posthog-js.test");
      const context = await browser.newContext({ userAgent: USER_AGENT });
      await context.addInitScript(SKEWED_CLOCK);
      const tab = await context.newPage();
      const complaints: string[] = [];
      tab.on("console", (m) => {
        if (m.type() === "error" || m.type() === "warning") complaints.push(m.text());
      });
      tab.on("pageerror", (e) => complaints.push(e.message));
      const calls: string[] = [];
      let reloading = false;
      context.on("requestfailed", (r) => {
        // A send still in flight when the page reloads is aborted by the browser, not failed
        // by Beacon (whether its events arrived is what the stored rows below check).
        if (reloading && r.failure()?.errorText === "net::ERR_ABORTED") return;
        complaints.push(`${r.url()} failed: ${r.failure()?.errorText}`);
      });
      context.on("request", (r) => {
        if (r.url().startsWith(beacon.url)) {
          calls.push(`${r.resourceType()} ${r.method()} ${new URL(r.url()).pathname}`);
        }
      });

      const start = Date.now();
      await tab.goto(siteUrl);
      await tab.waitForFunction(() => (globalThis as unknown as PostHogPage).posthog?.__loaded);
      const anonId = await tab.evaluate(() =>
        (globalThis as unknown as PostHogPage).posthog.get_distinct_id()
      );
      await tab.evaluate(() =>
        (globalThis as unknown as PostHogPage).posthog.capture("clicked_signup", {
          plan: "pro",
          price: 12.5,
        })
      );
      await tab.click("#buy");
      await tab.evaluate(() =>
        (globalThis as unknown as PostHogPage).posthog.capture(
          "left_by_beacon",
          { why: "unload" },
          {
            transport: "sendBeacon",
          },
        )
      );
      await tab.evaluate(
        (id) =>
          (globalThis as unknown as PostHogPage).posthog.identify(id, {
            email: "shopper@posthog-js.test",
          }, {
            first_plan: "pro",
          }),
        userId,
      );
      await tab.evaluate(() =>
        (globalThis as unknown as PostHogPage).posthog.capture("after_identify")
      );
      // Everything told so far is sent and stored before the reload (a send the reload
      // aborted would be lost by the browser, whatever the server does).
      for (let i = 0; i < 150; i++) {
        const toldNow = JSON.parse(
          await tab.evaluate(() => localStorage.getItem("__sent") ?? "[]"),
        ) as SentEvent[];
        const [{ n }] = await beacon.db.query<{ n: number }>(
          "select count(*)::int as n from public.events where event_type <> 'user_signup'",
        );
        if (toldNow.length > 0 && n >= toldNow.length) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      await tab.waitForLoadState("networkidle");
      reloading = true;
      await tab.reload();
      await tab.waitForFunction(() => (globalThis as unknown as PostHogPage).posthog?.__loaded);
      reloading = false;
      await tab.evaluate(() => (globalThis as unknown as PostHogPage).posthog.reset());
      const newAnon = await tab.evaluate(() =>
        (globalThis as unknown as PostHogPage).posthog.get_distinct_id()
      );
      await tab.evaluate(() =>
        (globalThis as unknown as PostHogPage).posthog.capture("after_reset")
      );

      const sent = async () =>
        JSON.parse(await tab.evaluate(() => localStorage.getItem("__sent") ?? "[]")) as SentEvent[];
      const stored = () =>
        beacon.db.query<StoredRow>(
          `select id::text, event_type, user_id::text, anonymous_id, payload,
                  to_char("timestamp" at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as ts
             from public.events where event_type <> 'user_signup' order by seq`,
        );
      // The SDK flushes its queue every few seconds: wait until every event told is stored.
      let rows: StoredRow[] = [];
      let told: SentEvent[] = [];
      for (let i = 0; i < 200; i++) {
        told = await sent();
        rows = await stored();
        if (rows.length >= told.length && told.some((e) => e.event === "after_reset")) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      const end = Date.now();

      assert.ok(
        calls.includes(`script GET /array/${KEY}/config.js`) &&
          calls.includes("fetch POST /i/v0/e/") && calls.includes("ping POST /i/v0/e/"),
        `the SDK loaded Beacon's remote config and sent events where it says, by fetch and by sendBeacon (${
          calls.join("; ")
        })`,
      );
      const names = told.map((e) => e.event);
      for (
        const name of ["$pageview", "clicked_signup", "$autocapture", "$identify", "$pageleave"]
      ) {
        assert.ok(names.includes(name), `the SDK sent ${name} (it sent ${names.join(", ")})`);
      }
      assert.notEqual(newAnon, anonId, "reset starts a new anonymous id");
      assert.deepEqual(
        rows.map((r) => r.id).sort(),
        told.map((e) => e.uuid).sort(),
        "every event the SDK sent is stored once, under its uuid",
      );
      const byId = new Map(rows.map((r) => [r.id, r]));
      const identifyAt = names.indexOf("$identify");
      const resetAt = names.indexOf("after_reset");
      told.forEach((event, i) => {
        const row = byId.get(event.uuid)!;
        assert.equal(row.event_type, event.event);
        const { token: _token, ...properties } = event.properties;
        const payload = { ...properties };
        if (event.$set) payload.$set = { ...(properties.$set as object), ...event.$set };
        if (event.$set_once) {
          payload.$set_once = { ...(properties.$set_once as object), ...event.$set_once };
        }
        assert.deepEqual(row.payload, payload, `${event.event}'s payload is its properties`);
        const expected = i < identifyAt
          ? [null, anonId]
          : i === identifyAt
          ? [userId, anonId]
          : i < resetAt
          ? [userId, null]
          : [null, newAnon];
        assert.deepEqual([row.user_id, row.anonymous_id], expected, `${event.event}'s person`);
        // The SDK's clock is an hour fast; stored times are the real ones.
        const storedAt = Date.parse(row.ts);
        assert.ok(storedAt >= start - 1 && storedAt <= end, `${row.ts} is within the test`);
        const told = Date.parse(event.timestamp) - storedAt;
        assert.ok(
          told <= SKEW_MS && told >= SKEW_MS - (end - start),
          `${event.event}: the SDK said ${event.timestamp}, stored ${row.ts}`,
        );
      });
      const links = await beacon.db.query<{ anonymous_id: string; user_id: string }>(
        "select anonymous_id, user_id::text from analytics.person_links order by anonymous_id",
      );
      assert.deepEqual(links, [{ anonymous_id: anonId, user_id: userId }]);
      const [person] = await beacon.db.query<{ properties: Record<string, unknown> }>(
        "select properties from analytics.person_properties where person_id = $1",
        [userId],
      );
      assert.equal(person.properties.email, "shopper@posthog-js.test");
      assert.equal(person.properties.first_plan, "pro");
      assert.deepEqual(complaints, [], "the console shows no error or warning");
    } finally {
      await browser.close();
      await site.shutdown();
      await beacon.shutdown();
    }
  },
});
