import assert from "node:assert/strict";
import { createSharedSuiteApp } from "../../tests/support/app.ts";

const t = await createSharedSuiteApp();

Deno.test("/flags/?v=2 and /decide/ answer no flags, no errors", async () => {
  for (const path of ["/flags/?v=2&config=true", "/decide/?v=3"]) {
    const res = await t.app.request(path, { method: "POST", body: "{}" });
    assert.equal(res.status, 200, path);
    const body = await res.json();
    assert.deepEqual(body.flags, {});
    assert.deepEqual(body.featureFlags, {});
    assert.equal(body.errorsWhileComputingFlags, false);
    assert.deepEqual(body.quotaLimited, []);
    assert.equal(res.headers.get("access-control-allow-origin"), "*");
  }
});

Deno.test("remote config enables nothing but gzip and points events at /i/v0/e/", async () => {
  const res = await t.app.request("/array/phc_key_1/config");
  const config = await res.json();
  assert.equal(config.token, "phc_key_1");
  assert.deepEqual(config.supportedCompression, ["gzip", "gzip-js"]);
  assert.deepEqual(config.analytics, { endpoint: "/i/v0/e/" });
  for (
    const off of ["hasFeatureFlags", "sessionRecording", "surveys", "heatmaps", "productTours"]
  ) {
    assert.equal(config[off], false, off);
  }
  assert.deepEqual(config.siteApps, []);
});

Deno.test("config.js registers the same config under the key, the key escaped", async () => {
  const key = `k"];alert(1);//`;
  const res = await t.app.request(`/array/${encodeURIComponent(key)}/config.js`);
  assert.match(res.headers.get("content-type")!, /^application\/javascript/);
  const script = await res.text();
  const window: { _POSTHOG_REMOTE_CONFIG?: Record<string, { config: { token: string } }> } = {};
  new Function("window", script)(window);
  assert.deepEqual(Object.keys(window._POSTHOG_REMOTE_CONFIG!), [key]);
  assert.equal(window._POSTHOG_REMOTE_CONFIG![key].config.token, key);
});

Deno.test("surveys, web experiments, product tours and early access answer empty lists", async () => {
  const expected: Record<string, unknown> = {
    "/api/surveys/?token=k": { surveys: [] },
    "/api/web_experiments/?token=k": { experiments: [] },
    "/api/product_tours/?token=k": { product_tours: [] },
    "/api/early_access_features/?token=k": { earlyAccessFeatures: [] },
  };
  for (const [path, body] of Object.entries(expected)) {
    const res = await t.app.request(path);
    assert.equal(res.status, 200, path);
    assert.deepEqual(await res.json(), body);
  }
});
