import assert from "node:assert/strict";
import { defaultCategory, matomoVisitorId, toMatomoRequest } from "./matomo_request.ts";
import type { PluginEvent } from "./mod.ts";

const USER = "0d8a7c6e-5b4a-4f3e-8d2c-1b0a9f8e7d6c";
const THREE_DAYS_AGO = Date.now() - 3 * 86_400_000;

function event(overrides: Partial<PluginEvent> = {}): PluginEvent {
  return {
    id: crypto.randomUUID(),
    event: "page_view",
    userId: null,
    anonymousId: "anon-1",
    properties: {},
    timestamp: new Date(THREE_DAYS_AGO).toISOString(),
    receivedAt: new Date().toISOString(),
    ...overrides,
  };
}

function params(query: string): Record<string, string> {
  assert.ok(query.startsWith("?"));
  return Object.fromEntries(new URLSearchParams(query.slice(1)));
}

const SITE = { siteId: 7 };

Deno.test("a page view becomes a Matomo page view with its URL and title", async () => {
  const e = event({
    event: "$pageview",
    properties: { $current_url: "https://app.example.com/pricing?x=1", $title: "Pricing" },
  });
  const got = params(await toMatomoRequest(e, SITE));
  assert.deepEqual(got, {
    idsite: "7",
    rec: "1",
    apiv: "1",
    _id: await matomoVisitorId("anon-1"),
    cid: await matomoVisitorId("anon-1"),
    cdt: String(Math.floor(THREE_DAYS_AGO / 1000)),
    url: "https://app.example.com/pricing?x=1",
    action_name: "Pricing",
  });
  // Beacon's own shape: `path` (resolved against siteUrl), no title: the path names it.
  const own = params(
    await toMatomoRequest(event({ properties: { path: "/docs" } }), {
      ...SITE,
      siteUrl: "https://app.example.com",
    }),
  );
  assert.equal(own.url, "https://app.example.com/docs");
  assert.equal(own.action_name, "/docs");
  assert.equal(own.e_c, undefined, "a page view is not an event");
  const custom = params(
    await toMatomoRequest(event({ event: "screen", properties: { title: "Home" } }), {
      ...SITE,
      pageViewTypes: ["screen"],
    }),
  );
  assert.equal(custom.action_name, "Home");
});

Deno.test("other events become Matomo events with category, action, name and value from the payload", async () => {
  const full = params(
    await toMatomoRequest(
      event({
        event: "video_played",
        userId: USER,
        properties: {
          category: "Videos",
          action: "Play",
          name: "Intro",
          value: 42.5,
          url: "https://app.example.com/watch",
        },
      }),
      SITE,
    ),
  );
  assert.deepEqual(full, {
    idsite: "7",
    rec: "1",
    apiv: "1",
    _id: await matomoVisitorId(USER),
    cdt: String(Math.floor(THREE_DAYS_AGO / 1000)),
    uid: USER,
    ca: "1",
    e_c: "Videos",
    e_a: "Play",
    e_n: "Intro",
    e_v: "42.5",
    url: "https://app.example.com/watch",
  });
  const defaults = params(
    await toMatomoRequest(
      event({ event: "checkout.completed", properties: { label: "pro", event_value: "19.99" } }),
      SITE,
    ),
  );
  assert.equal(defaults.e_c, "checkout", "the event type's prefix is the category");
  assert.equal(defaults.e_a, "checkout.completed", "the event type is the action");
  assert.equal(defaults.e_n, "pro");
  assert.equal(defaults.e_v, "19.99");
  const bare = params(
    await toMatomoRequest(event({ event: "signup", properties: { value: "a lot" } }), SITE),
  );
  assert.equal(bare.e_c, "beacon");
  assert.equal(bare.e_a, "signup");
  assert.equal(bare.e_n, undefined);
  assert.equal(bare.e_v, undefined, "a value that is not a number is left out");
  assert.deepEqual(
    ["user_signup", "video:play", "$autocapture", "_x", "plain"].map(defaultCategory),
    ["user", "video", "beacon", "beacon", "beacon"],
  );
});

Deno.test("the visitor id is SHA-1 of the person, as Matomo hashes a uid; anonymous events force it with cid", async () => {
  assert.equal(await matomoVisitorId("abc"), "a9993e364706816a");
  const signedIn = params(await toMatomoRequest(event({ userId: USER }), SITE));
  assert.equal(signedIn._id, await matomoVisitorId(USER), "the user id wins over the anonymous id");
  assert.equal(signedIn.uid, USER);
  assert.equal(signedIn.cid, undefined, "Matomo derives the visitor from uid itself");
  const anonymous = params(await toMatomoRequest(event({ anonymousId: "device-9" }), SITE));
  assert.equal(anonymous.uid, undefined);
  assert.equal(anonymous._id, await matomoVisitorId("device-9"));
  assert.equal(anonymous.cid, anonymous._id);
  const again = params(await toMatomoRequest(event({ anonymousId: "device-9" }), SITE));
  assert.equal(again._id, anonymous._id, "the same person keeps the same visitor id");
});
