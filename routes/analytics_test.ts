import assert from "node:assert/strict";
import { createSharedSuiteApp, createUser } from "../tests/support/app.ts";
import { addDays, todayUtc } from "../analytics/days.ts";

const t = await createSharedSuiteApp();
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
    /<script id="__BEACON_ISLANDS__" type="application\/json"[^>]*>(.*?)<\/script>/s.exec(html)![1],
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

Deno.test("the first-run guide stays until the app sends an event other than the signups Beacon records", async () => {
  await t.db.query("delete from public.events");
  // What a first start records by itself: the admin's own signup, through the trigger.
  await createUser(t.db, "first-admin@pages.test", true);
  const [{ n }] = await t.db.query<{ n: number }>(
    "select count(*)::int as n from public.events where event_type = 'user_signup'",
  );
  assert.equal(n, 1);
  assert.match(await (await page("/analytics")).text(), /No events yet/);
  await t.db.query(
    "insert into public.events (event_type, anonymous_id) values ('page_view', 'device-1')",
  );
  assert.doesNotMatch(await (await page("/analytics")).text(), /No events yet/);
});

Deno.test("From after To renders the dashboard with the error beside the date fields", async () => {
  const res = await page("/analytics?metric=signups&bucket=week&from=2026-11-10&to=2026-11-01");
  assert.equal(res.status, 400);
  const html = await res.text();
  assert.match(html, /data-kpi="Total users"/, "the cards are there");
  assert.match(html, /<beacon-island data-name="TimeSeriesChart"/, "the chart is there");
  assert.match(html, /id="range-error"[^>]*>from: 2026-11-10 is after to \(2026-11-01\)/);
  assert.match(html, /<input type="date" name="from" value="2026-11-10" aria-invalid="true"/);
  assert.doesNotMatch(html, /That address asks for something Beacon cannot show/);
  const state = JSON.parse(
    /<script id="__BEACON_ISLANDS__" type="application\/json"[^>]*>(.*?)<\/script>/s.exec(html)![1],
  );
  assert.equal(state[0].selection.range, "30", "the chart shows the default range meanwhile");
  assert.equal(state[0].selection.metric, "signups", "and keeps the parameters that were right");
});

Deno.test("each bucket of a series says whether it is partial; days after today have no value", async () => {
  const today = todayUtc();
  const res = await page(
    `/api/v1/analytics/timeseries?metric=events&from=${addDays(today, -2)}&to=${
      addDays(today, 2)
    }&bucket=day`,
  );
  assert.equal(res.status, 200);
  const body = await res.json();
  assert.deepEqual(
    body.series.map((p: { incomplete: boolean }) => p.incomplete),
    [false, false, true, true, true],
  );
  assert.deepEqual(
    body.series.slice(3).map((p: { value: number | null }) => p.value),
    [null, null],
    "the future is not drawn as zeros",
  );
  assert.equal(typeof body.series[0].value, "number");
});

Deno.test("Total users and Total signups say why they can differ", async () => {
  const html = await (await page("/analytics")).text();
  assert.match(html, /data-kpi="Total users" title="[^"]*deleted[^"]*imported/);
  assert.match(html, /accounts that exist now/);
  assert.match(html, /signup events, all time/);
});

Deno.test("the 403 page offers no links to pages the viewer cannot open", async () => {
  const olive = await createUser(t.db, "olive@pages.test", false);
  const res = await t.app.request("/analytics", {
    headers: { authorization: `Bearer ${await t.token(olive)}` },
  });
  assert.equal(res.status, 403);
  const html = await res.text();
  assert.doesNotMatch(html, /href="\/analytics(\/events)?"/);
  assert.match(html, /Sign out/);
});

Deno.test("with a raw-event retention, the dashboard and the explorer say which days are rollups only", async () => {
  const today = todayUtc();
  await t.db.query(
    `insert into beacon.settings (key, value) values ('raw_retention_days', '30')
     on conflict (key) do update set value = excluded.value`,
  );
  try {
    const keptFrom = addDays(today, -30);
    const dashboard = await (await page(`/analytics?from=${addDays(today, -59)}&to=${today}`))
      .text();
    assert.match(dashboard, /data-rollups-only="part"/);
    assert.match(dashboard, new RegExp(`Rollups only before ${keptFrom}`));
    const inside = await (await page(`/analytics?from=${addDays(today, -6)}&to=${today}`)).text();
    assert.doesNotMatch(inside, /data-rollups-only/, "a range inside the retention has no notice");
    const old = await (
      await page(`/analytics/events?from=${addDays(today, -50)}&to=${addDays(today, -40)}`)
    ).text();
    assert.match(old, /data-rollups-only="all"/);
    assert.match(old, /none of this range(&#39;|')s can be\s+listed/);
    assert.doesNotMatch(old, /No events match/, "not an empty table that looks like no events");
  } finally {
    await t.db.query("delete from beacon.settings where key = 'raw_retention_days'");
  }
  const none = await (await page(`/analytics?from=${addDays(today, -59)}&to=${today}`)).text();
  assert.doesNotMatch(none, /data-rollups-only/, "no retention: no notice");
});

Deno.test("analysts read the trends and revenue pages without the superusers' forms", async () => {
  const ann = await createUser(t.db, "ann-analyst@pages.test", false);
  await t.db.query("update public.profiles set is_analyst = true where id = $1", [ann]);
  const as = async (who: string, path: string) => {
    const res = await t.app.request(path, {
      headers: { authorization: `Bearer ${await t.token(who)}` },
    });
    assert.equal(res.status, 200, `${path} as ${who === ann ? "the analyst" : "the superuser"}`);
    return await res.text();
  };
  const edits = [
    ["/analytics/trends", /action="\/analytics\/trends\/tracked"/],
    ["/analytics/revenue", /action="\/analytics\/revenue\/rates"/],
  ] as const;
  for (const [path, form] of edits) {
    assert.match(await as(sam, path), form, `a superuser edits on ${path}`);
    assert.doesNotMatch(await as(ann, path), form, `an analyst gets no edit form on ${path}`);
  }
});
