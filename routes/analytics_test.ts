import assert from "node:assert/strict";
import { createTestApp, createUser } from "../tests/support/app.ts";

const t = await createTestApp();
const sam = await createUser(t.db, "sam@pages.test", true);

async function page(path: string) {
  return await t.app.request(path, { headers: { authorization: `Bearer ${await t.token(sam)}` } });
}

Deno.test("with no events yet, /analytics says what to do next", async () => {
  await t.db.query("delete from public.events");
  const res = await page("/analytics");
  assert.equal(res.status, 200);
  const html = await res.text();
  assert.match(html, /No events yet/);
  assert.match(
    html,
    /supabase\.from\(&quot;events&quot;\)\.insert|supabase\.from\("events"\)\.insert/,
  );
});

Deno.test("the first render already holds the chart's data, and loads only the chart island", async () => {
  await t.db.query(
    `insert into public.events (event_type, anonymous_id, "timestamp")
     select 'page_view', 'v', now() - g * interval '1 day' from generate_series(0, 9) g`,
  );
  const html = await (await page("/analytics?range=7&metric=events&bucket=day")).text();
  const state = JSON.parse(
    /<script id="__BEACON_ISLANDS__" type="application\/json">(.*?)<\/script>/s.exec(html)![1],
  );
  assert.equal(state.length, 1);
  assert.equal(state[0].series.length, 7);
  assert.deepEqual(state[0].series.map((p: { value: number }) => p.value), [1, 1, 1, 1, 1, 1, 1]);
  assert.match(html, /<beacon-island data-name="TimeSeriesChart" data-index="0"/);
  assert.match(html, /import I0 from "\/_islands\/islands\/TimeSeriesChart(-[0-9a-f]+)?\.js"/);
  assert.doesNotMatch(html, /No events yet/);
  const events = await (await page("/analytics/events")).text();
  assert.doesNotMatch(events, /__BEACON_ISLANDS__/, "the explorer ships no island code");
});

Deno.test("a bad parameter on a page gives a 400 page saying what is wrong", async () => {
  const res = await page("/analytics?bucket=hour");
  assert.equal(res.status, 400);
  assert.match(await res.text(), /bucket: must be day, week or month/);
  const events = await page("/analytics/events?user_id=nobody");
  assert.equal(events.status, 400);
});

Deno.test({
  name: "close the test database",
  fn: () => t.close(),
  sanitizeResources: false,
  sanitizeOps: false,
});
