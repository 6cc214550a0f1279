import assert from "node:assert/strict";
import LZString from "lz-string";
import { createSharedSuiteApp, TEST_INGEST_KEY } from "../../tests/support/app.ts";
import { captureClient, jsEvent } from "../../tests/support/posthog_capture.ts";
import { CAPTURE_PATHS } from "./capture.ts";

/** The second key the capture endpoints take (`BEACON_POSTHOG_PROJECT_KEY`). */
const PROJECT_KEY = "phc_TeamsExistingProjectKey0123456789abcdef";
const t = await createSharedSuiteApp({
  config: { limits: { maxBodyBytes: 64 * 1024 }, posthogProjectKey: PROJECT_KEY },
});
const { send, rows } = captureClient(t);

Deno.test("an lz64 form body (older posthog-js: data=LZString.compressToBase64, compression=lz64) is stored", async () => {
  const a = jsEvent("$pageview", "anon-lz64", { $current_url: "https://app.test/é?q=1+2" });
  const b = jsEvent("signed_up", "anon-lz64", { plan: "pro 🚀" });
  const data = LZString.compressToBase64(JSON.stringify([a, b]));
  // Older posthog-js's body: both fields form-encoded, "+" in the data included.
  const form = new URLSearchParams({ data, compression: "lz64" }).toString();
  const res = await send("/e/?ip=1&_=1700000000000&ver=1.30.0", {
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: form,
  });
  assert.equal(res.status, 200);
  assert.deepEqual(await res.json(), { status: 1, accepted: 2, duplicates: 0, rejected: [] });
  const stored = await rows("anonymous_id = 'anon-lz64'");
  assert.deepEqual(stored.map((r) => [r.id, r.event_type]), [
    [a.uuid, "$pageview"],
    [b.uuid, "signed_up"],
  ]);
  assert.equal(stored[0].payload.$current_url, "https://app.test/é?q=1+2");
  assert.equal(stored[1].payload.plan, "pro 🚀");
});

Deno.test("lz64 in a GET's data= and as a whole body with ?compression=lz64 is stored", async () => {
  const g = jsEvent("lz_get", "anon-lz64-other");
  const data = encodeURIComponent(LZString.compressToBase64(JSON.stringify(g)));
  const viaGet = await t.app.request(`/e/?compression=lz64&data=${data}`);
  assert.equal(viaGet.status, 200);
  const p = jsEvent("lz_body", "anon-lz64-other");
  const viaBody = await send("/batch/?compression=lz64", {
    headers: { "content-type": "text/plain" },
    body: LZString.compressToBase64(JSON.stringify({ api_key: TEST_INGEST_KEY, batch: [p] })),
  });
  assert.equal(viaBody.status, 200);
  assert.deepEqual((await rows("anonymous_id = 'anon-lz64-other'")).map((r) => r.id), [
    g.uuid,
    p.uuid,
  ]);
});

Deno.test("an lz64 body larger than the limit once decompressed is a 413", async () => {
  const body = JSON.stringify({ api_key: TEST_INGEST_KEY, pad: "x".repeat(200_000) });
  const data = LZString.compressToBase64(body);
  assert.ok(data.length < 64 * 1024);
  const res = await send("/e/", { body: `data=${encodeURIComponent(data)}&compression=lz64` });
  assert.equal(res.status, 413);
  assert.equal((await res.json()).error, "body_too_large");
});

Deno.test("a missing or wrong project key is a 401 with Beacon's error and PostHog's authentication_error fields", async () => {
  const missing = await send("/e/", { body: JSON.stringify({ event: "x", distinct_id: "d" }) });
  assert.equal(missing.status, 401);
  assert.equal((await missing.json()).error, "missing_credentials");
  const wrong = await send("/e/", {
    body: JSON.stringify({ api_key: "phc_not_this_one", batch: [jsEvent("x", "d-wrong")] }),
  });
  assert.equal(wrong.status, 401);
  const body = await wrong.json();
  assert.equal(body.error, "invalid_apikey");
  assert.match(body.message, /ingest key nor its configured PostHog project key/);
  assert.deepEqual([body.type, body.code, body.attr], [
    "authentication_error",
    "invalid_api_key",
    null,
  ]);
  assert.match(body.detail, /Project API key invalid/);
  assert.equal((await rows("anonymous_id = 'd-wrong'")).length, 0);
});

Deno.test("the configured PostHog project key is accepted by every capture endpoint, as api_key or token", async () => {
  const sent: string[] = [];
  for (const path of CAPTURE_PATHS) {
    // The key only as api_key (no token in the event) ...
    const a = jsEvent("second_key", "anon-second-key", { token: undefined });
    // ... and only as the event's token.
    const b = jsEvent("second_key", "anon-second-key", { token: PROJECT_KEY });
    for (const body of [{ api_key: PROJECT_KEY, batch: [a] }, b]) {
      const res = await send(path, { body: JSON.stringify(body) });
      assert.equal(res.status, 200, `${path} ${"api_key" in body ? "api_key" : "token"}`);
    }
    sent.push(a.uuid, b.uuid);
  }
  const stored = (await rows("anonymous_id = 'anon-second-key'")).map((r) => r.id);
  assert.deepEqual(stored.toSorted(), sent.toSorted());
  assert.equal(sent.length, 2 * CAPTURE_PATHS.length);
});

Deno.test("the PostHog project key is not an ingest key: /api/v1/events refuses it", async () => {
  const res = await t.app.request("/api/v1/events", {
    method: "POST",
    headers: { "content-type": "application/json", apikey: PROJECT_KEY },
    body: JSON.stringify({ event: "x", anonymous_id: "anon-not-ingest" }),
  });
  assert.equal(res.status, 401);
  assert.equal((await res.json()).error, "invalid_apikey");
  assert.equal((await rows("anonymous_id = 'anon-not-ingest'")).length, 0);
});
