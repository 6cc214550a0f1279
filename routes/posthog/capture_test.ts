import assert from "node:assert/strict";
import { createSharedSuiteApp, createUser, TEST_INGEST_KEY } from "../../tests/support/app.ts";
import { base64, captureClient, gzip, jsEvent } from "../../tests/support/posthog_capture.ts";

const t = await createSharedSuiteApp({ config: { limits: { maxBodyBytes: 64 * 1024 } } });
const ada = await createUser(t.db, "ada@posthog-capture.test");
const { send, rows } = captureClient(t);

Deno.test("a posthog-js gzip batch (text/plain, gzip by its magic bytes) is stored as events", async () => {
  const a = jsEvent("$pageview", "anon-gzip", { $current_url: "https://app.test/" });
  const b = jsEvent("clicked", "anon-gzip", { button: "buy" });
  const body = { api_key: TEST_INGEST_KEY, batch: [a, b], sent_at: new Date().toISOString() };
  const res = await send("/i/v0/e/?ip=0&_=1&ver=1.449.2", {
    headers: { "content-type": "text/plain" },
    body: await gzip(JSON.stringify(body)),
  });
  assert.equal(res.status, 200);
  assert.deepEqual(await res.json(), { status: 1, accepted: 2, duplicates: 0, rejected: [] });
  const stored = await rows("anonymous_id = 'anon-gzip'");
  assert.deepEqual(stored.map((r) => [r.id, r.event_type, r.user_id]), [
    [a.uuid, "$pageview", null],
    [b.uuid, "clicked", null],
  ]);
  assert.equal(stored[0].payload.$current_url, "https://app.test/");
  assert.equal(stored[1].payload.$lib, "web");
  assert.equal("token" in stored[0].payload, false, "the project key is not stored");
});

Deno.test("a base64 form body (data=, as sendBeacon sends) is stored", async () => {
  const e = jsEvent("$pageleave", "anon-beacon");
  const data = base64(JSON.stringify({ api_key: TEST_INGEST_KEY, batch: [e] }));
  const res = await send("/e/?compression=base64", {
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: `data=${encodeURIComponent(data)}`,
  });
  assert.equal(res.status, 200);
  assert.deepEqual((await rows("anonymous_id = 'anon-beacon'")).map((r) => r.id), [e.uuid]);
});

Deno.test("plain JSON to /e/, one event without a batch, and GET /e/?data= are stored", async () => {
  const one = { ...jsEvent("plain", "anon-plain"), api_key: TEST_INGEST_KEY };
  assert.equal(
    (await send("/e/", {
      headers: { "content-type": "application/json" },
      body: JSON.stringify(one),
    }))
      .status,
    200,
  );
  const viaGet = jsEvent("via_get", "anon-plain");
  const res = await t.app.request(
    `/e/?data=${encodeURIComponent(base64(JSON.stringify(viaGet)))}`,
  );
  assert.equal(res.status, 200);
  assert.deepEqual((await rows("anonymous_id = 'anon-plain'")).map((r) => r.event_type), [
    "plain",
    "via_get",
  ]);
});

Deno.test("posthog-node's body (application/json, Content-Encoding: gzip) to /batch/ is stored", async () => {
  const e = {
    event: "server_did",
    distinct_id: "node-anon",
    properties: { $lib: "posthog-node" },
    uuid: crypto.randomUUID(),
    timestamp: new Date().toISOString(),
  };
  const res = await send("/batch/", {
    headers: { "content-type": "application/json", "content-encoding": "gzip" },
    body: await gzip(JSON.stringify({ api_key: TEST_INGEST_KEY, batch: [e] })),
  });
  assert.equal(res.status, 200);
  assert.deepEqual((await rows("anonymous_id = 'node-anon'")).map((r) => r.id), [e.uuid]);
});

Deno.test("a distinct_id that is a user's id is stored as user_id; $identify links the anonymous id", async () => {
  const before = jsEvent("browsed", "anon-ada");
  const identify = jsEvent("$identify", ada, { $anon_distinct_id: "anon-ada" });
  const after = jsEvent("bought", ada.toUpperCase());
  const res = await send("/batch/", {
    body: JSON.stringify({ api_key: TEST_INGEST_KEY, batch: [before, identify, after] }),
  });
  assert.equal(res.status, 200);
  const stored = await rows("id = any($1::uuid[])", [[before.uuid, identify.uuid, after.uuid]]);
  assert.deepEqual(stored.map((r) => [r.event_type, r.user_id, r.anonymous_id]), [
    ["browsed", null, "anon-ada"],
    ["$identify", ada, "anon-ada"],
    ["bought", ada, null],
  ]);
  const [link] = await t.db.query<{ user_id: string }>(
    "select user_id::text from analytics.person_links where anonymous_id = 'anon-ada'",
  );
  assert.equal(link.user_id, ada);
});

Deno.test("a uuid-shaped distinct_id that is no user's id stays an anonymous id", async () => {
  const stranger = crypto.randomUUID();
  await send("/batch/", {
    body: JSON.stringify({ api_key: TEST_INGEST_KEY, batch: [jsEvent("x", stranger)] }),
  });
  assert.deepEqual((await rows("anonymous_id = $1", [stranger])).map((r) => r.user_id), [null]);
});

Deno.test("alias links the anonymous id to the user, whichever side names the user", async () => {
  const grace = await createUser(t.db, "grace@posthog-capture.test");
  await send("/batch/", {
    body: JSON.stringify({
      api_key: TEST_INGEST_KEY,
      batch: [
        { event: "$create_alias", distinct_id: "anon-grace", properties: { alias: grace } },
      ],
    }),
  });
  const [link] = await t.db.query<{ user_id: string }>(
    "select user_id::text from analytics.person_links where anonymous_id = 'anon-grace'",
  );
  assert.equal(link.user_id, grace);
});

Deno.test("$set overwrites, $set_once fills only what is unset, identify brings the anonymous person's properties", async () => {
  const lin = await createUser(t.db, "lin@posthog-capture.test");
  const batch = [
    { ...jsEvent("$pageview", "anon-lin"), $set_once: { first_page: "/pricing" } },
    { ...jsEvent("$identify", lin, { $anon_distinct_id: "anon-lin" }), $set: { plan: "free" } },
    jsEvent("upgraded", lin, { $set: { plan: "pro" }, $set_once: { plan: "never", since: 1 } }),
  ];
  const res = await send("/e/", {
    body: JSON.stringify({ api_key: TEST_INGEST_KEY, batch }),
  });
  assert.equal(res.status, 200);
  const found = await t.db.query<
    { person_id: string; user_id: string | null; properties: unknown }
  >(
    `select person_id, user_id::text, properties from analytics.person_properties
      where person_id in ('anon-lin', $1) order by user_id nulls first`,
    [lin],
  );
  assert.deepEqual(found, [
    { person_id: "anon-lin", user_id: null, properties: { first_page: "/pricing" } },
    { person_id: lin, user_id: lin, properties: { first_page: "/pricing", plan: "pro", since: 1 } },
  ]);
});

Deno.test("timestamps are corrected for the client's clock with sent_at, and by offset", async () => {
  const hourAhead = Date.now() + 3600_000;
  const early = {
    ...jsEvent("skewed", "anon-skew"),
    timestamp: new Date(hourAhead - 5000).toISOString(),
  };
  const late = {
    ...jsEvent("skewed", "anon-skew"),
    timestamp: new Date(hourAhead - 2000).toISOString(),
  };
  const offset = {
    event: "offset",
    distinct_id: "anon-skew",
    offset: 60_000,
    uuid: crypto.randomUUID(),
  };
  const start = Date.now();
  await send("/e/", {
    body: JSON.stringify({
      api_key: TEST_INGEST_KEY,
      batch: [early, late, offset],
      sent_at: new Date(hourAhead).toISOString(),
    }),
  });
  const end = Date.now();
  const stored = await rows("anonymous_id = 'anon-skew'");
  const at = stored.map((r) => Date.parse(r.ts));
  assert.ok(at[0] >= start - 5000 && at[0] <= end - 5000, `${stored[0].ts} is arrival − 5 s`);
  assert.equal(at[1] - at[0], 3000, "the gap between two events of a batch is kept exactly");
  assert.ok(at[2] >= start - 60_000 && at[2] <= end - 60_000, "offset counts back from arrival");
});

Deno.test("a bad event is refused alone, named by index and field; the others are stored", async () => {
  const good = jsEvent("fine", "anon-mixed");
  const res = await send("/batch/", {
    body: JSON.stringify({
      api_key: TEST_INGEST_KEY,
      batch: [
        { event: "no_one", properties: {} },
        good,
        { ...jsEvent("", "anon-mixed") },
        "not an event",
        { ...jsEvent("bad_uuid", "anon-mixed"), uuid: "nope" },
      ],
    }),
  });
  assert.equal(res.status, 200);
  const answer = await res.json();
  assert.equal(answer.accepted, 1);
  assert.deepEqual(
    answer.rejected.map((r: { index: number; field: string }) => [r.index, r.field]),
    [
      [0, "distinct_id"],
      [2, "event"],
      [3, ""],
      [4, "uuid"],
    ],
  );
  assert.deepEqual((await rows("anonymous_id = 'anon-mixed'")).map((r) => r.id), [good.uuid]);
});

Deno.test("a retried batch (same uuids) is stored once and counted as duplicates", async () => {
  const body = JSON.stringify({
    api_key: TEST_INGEST_KEY,
    batch: [jsEvent("retry", "anon-retry"), jsEvent("retry", "anon-retry")],
  });
  await send("/batch/", { body });
  const again = await (await send("/batch/", { body })).json();
  assert.deepEqual([again.accepted, again.duplicates], [0, 2]);
  assert.equal((await rows("anonymous_id = 'anon-retry'")).length, 2);
});

Deno.test("bodies that cannot be read are 4xx, never 5xx", async () => {
  const cases: Array<[string, RequestInit, number, string]> = [
    ["/e/", { body: "{not json" }, 400, "malformed_json"],
    ["/e/", { body: new Uint8Array([0x1f, 0x8b, 1, 2, 3]) }, 400, "invalid_gzip"],
    ["/e/?compression=base64", { body: "data=%%%" }, 400, "invalid_base64"],
    ["/e/", { body: "data=%25%25%25&compression=lz64" }, 400, "invalid_lz64"],
    ["/e/?compression=lz64", { body: "data=N4Ig" }, 400, "invalid_lz64"],
    ["/e/", { body: "" }, 400, "empty_body"],
    ["/e/", { body: '{"batch": []}' }, 400, "empty_batch"],
    ["/e/", { body: '"just a string"' }, 400, "invalid_body"],
    [
      "/batch/",
      { body: "x", headers: { "content-encoding": "br" } },
      415,
      "unsupported_content_encoding",
    ],
    ["/e/", { body: new Uint8Array([0xff, 0xfe]) }, 400, "invalid_encoding"],
  ];
  for (const [path, init, status, error] of cases) {
    const res = await send(path, init);
    assert.equal(res.status, status, `${path} ${error}`);
    assert.equal((await res.json()).error, error);
  }
});

Deno.test("a gzip body larger than the limit once decompressed is a 413", async () => {
  const big = await gzip(JSON.stringify({ api_key: TEST_INGEST_KEY, pad: "x".repeat(200_000) }));
  assert.ok(big.length < 64 * 1024);
  const res = await send("/e/", { body: big });
  assert.equal(res.status, 413);
  assert.equal((await res.json()).error, "body_too_large");
});

Deno.test("a browser on another origin passes the preflight and reads every answer, without credentials", async () => {
  const preflight = await t.app.request("/i/v0/e/", {
    method: "OPTIONS",
    headers: {
      origin: "https://shop.example",
      "access-control-request-method": "POST",
      "access-control-request-headers": "content-type",
    },
  });
  assert.equal(preflight.status, 204);
  assert.equal(preflight.headers.get("access-control-allow-origin"), "*");
  assert.match(preflight.headers.get("access-control-allow-methods")!, /POST/);
  assert.equal(preflight.headers.get("access-control-allow-headers"), "content-type");
  assert.equal(preflight.headers.get("access-control-allow-credentials"), null);
  const refused = await send("/e/", { headers: { origin: "https://shop.example" }, body: "{" });
  assert.equal(refused.headers.get("access-control-allow-origin"), "*");
  const elsewhere = await t.app.request("/api/v1/health", { headers: { origin: "https://x" } });
  assert.equal(elsewhere.headers.get("access-control-allow-origin"), null, "only PostHog paths");
});

Deno.test("PostHog answers may be read across origins by a no-cors sendBeacon; other answers stay same-origin", async () => {
  const beacon = await send("/i/v0/e/", { body: "{" });
  assert.equal(beacon.headers.get("cross-origin-resource-policy"), "cross-origin");
  const page = await t.app.request("/login");
  assert.equal(page.headers.get("cross-origin-resource-policy"), "same-origin");
});
