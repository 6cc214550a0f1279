import assert from "node:assert/strict";
import { createSharedSuiteApp, createUser, TEST_INGEST_KEY } from "../../tests/support/app.ts";
import { issueAccessToken } from "../../auth/tokens.ts";
import type { CheckedEvent } from "../../ingest/event.ts";
import { storeEvents } from "../../ingest/store.ts";

const t = await createSharedSuiteApp({
  config: { limits: { maxBatchEvents: 5, maxBodyBytes: 4096 } },
});
const alice = await createUser(t.db, "alice@events-route.test");
/** The same database behind an app with the default limits (1 MiB bodies). */
const roomy = await createSharedSuiteApp({ db: t.db });

function postFrom(address: string, headers: Record<string, string>, app = roomy.app) {
  return app.request("/api/v1/events", {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify({ event: "tried", anonymous_id: "guesser" }),
  }, { remoteAddr: { hostname: address } });
}

/** POSTs a body; a header given as "" is left out. */
function post(body: string, headers: Record<string, string> = {}) {
  const all = {
    "content-type": "application/json",
    apikey: TEST_INGEST_KEY,
    ...headers,
  };
  return t.app.request("/api/v1/events", {
    method: "POST",
    headers: Object.fromEntries(
      Object.entries(all).filter(([, value]) => value !== ""),
    ),
    body,
  });
}

async function count(where: string, params: unknown[] = []): Promise<number> {
  const [{ n }] = await t.db.query<{ n: number }>(
    `select count(*)::int as n from public.events where ${where}`,
    params,
  );
  return n;
}

Deno.test("an anonymous batch with the ingest key is stored; bad events are named", async () => {
  const res = await post(JSON.stringify({
    batch: [
      {
        event: "page_view",
        anonymous_id: "visitor-1",
        properties: { path: "/" },
      },
      { event: "page_view" },
      {
        event: "signup_clicked",
        anonymous_id: "visitor-1",
        timestamp: "2026-01-01T10:00:00+02:00",
      },
    ],
  }));
  assert.equal(res.status, 200);
  assert.deepEqual(await res.json(), {
    accepted: 2,
    duplicates: 0,
    rejected: [{
      index: 1,
      field: "anonymous_id",
      reason: "required for events sent with the ingest key (no signed-in user)",
    }],
  });
  assert.equal(
    await count("anonymous_id = 'visitor-1' and user_id is null"),
    2,
  );
  assert.equal(
    await count(
      `event_type = 'signup_clicked' and "timestamp" = '2026-01-01T08:00:00Z'`,
    ),
    1,
    "the timestamp is stored as the same instant",
  );
});

Deno.test("a retried event with the same uuid is a duplicate and is stored once", async () => {
  const event = {
    event: "purchase",
    anonymous_id: "v2",
    uuid: "6f1c2b1e-9d1a-4c55-8f0e-0d7c3f3b9a01",
  };
  const first = await (await post(JSON.stringify(event))).json();
  const again = await (await post(JSON.stringify({ batch: [event, event] })))
    .json();
  assert.deepEqual([first.accepted, first.duplicates], [1, 0]);
  assert.deepEqual([again.accepted, again.duplicates], [0, 2]);
  assert.equal(await count("id = $1", [event.uuid]), 1);
});

Deno.test("a signed-in user's events belong to the token's subject, whatever the body says", async () => {
  const token = await t.token(alice);
  const res = await post(
    JSON.stringify({
      event: "goal_submitted",
      user_id: "00000000-0000-4000-8000-000000000009",
    }),
    { authorization: `Bearer ${token}`, apikey: "" },
  );
  assert.equal(res.status, 200);
  assert.equal((await res.json()).accepted, 1);
  assert.equal(
    await count("event_type = 'goal_submitted' and user_id = $1", [alice]),
    1,
  );
});

Deno.test("who may send: anything but a valid token or the ingest key is 401", async () => {
  const body = JSON.stringify({ event: "x", anonymous_id: "a" });
  const expired = await t.token(alice, -60);
  const forged = await issueAccessToken({ id: alice }, {
    secret: "another-secret-another-secret-another-secret",
  });
  const cases: Array<[Record<string, string>, string]> = [
    [{}, "missing_credentials"],
    [{ apikey: "wrong-key-wrong-key" }, "invalid_apikey"],
    [{ authorization: `Bearer ${expired}` }, "invalid_token"],
    [{ authorization: `Bearer ${forged}` }, "invalid_token"],
    [{ authorization: "Bearer not.a.jwt" }, "invalid_token"],
    [{ authorization: "Basic abc" }, "invalid_authorization"],
  ];
  for (const [headers, code] of cases) {
    const res = await post(body, { apikey: "", ...headers });
    assert.equal(res.status, 401, JSON.stringify(headers));
    assert.equal((await res.json()).error, code);
  }
  const expiredRes = await post(body, { authorization: `Bearer ${expired}` });
  assert.match((await expiredRes.json()).message, /expired/);
});

Deno.test("malformed requests get a 4xx naming the problem and store nothing", async () => {
  const before = await count("true");
  const cases: Array<[RequestInit, number, string]> = [
    [{ body: '{"event":', headers: {} }, 400, "malformed_json"],
    [
      { body: "{}", headers: { "content-type": "text/plain" } },
      415,
      "unsupported_media_type",
    ],
    [{ body: JSON.stringify({ batch: [] }), headers: {} }, 400, "empty_batch"],
    [
      {
        body: JSON.stringify({
          batch: Array(6).fill({ event: "x", anonymous_id: "a" }),
        }),
        headers: {},
      },
      413,
      "batch_too_large",
    ],
    [
      {
        body: JSON.stringify({
          event: "x",
          anonymous_id: "a",
          pad: "y".repeat(5000),
        }),
        headers: {},
      },
      413,
      "body_too_large",
    ],
    [{ body: "[1,2]", headers: {} }, 400, "invalid_body"],
  ];
  for (const [init, status, code] of cases) {
    const res = await post(
      init.body as string,
      init.headers as Record<string, string>,
    );
    assert.equal(res.status, status, code);
    assert.equal((await res.json()).error, code);
  }
  assert.equal(await count("true"), before);
});

Deno.test("no input produces a 5xx", async () => {
  const random = (() => {
    let a = 12345;
    return () => ((a = (a * 1103515245 + 12345) % 2147483648) / 2147483648);
  })();
  const pieces = [
    "{",
    "}",
    "[",
    "]",
    '"event"',
    ":",
    ",",
    '"x"',
    "null",
    "1e999",
    '"batch"',
    '"properties"',
    '"timestamp"',
    '"9999-99-99T99:99:99Z"',
    '"uuid"',
    '"anonymous_id"',
    "true",
    '"\\u0000"',
    "-0",
    '"\\ud800"',
    "{}",
    "[]",
  ];
  for (let i = 0; i < 300; i++) {
    const length = 1 + Math.floor(random() * 12);
    const body = Array.from(
      { length },
      () => pieces[Math.floor(random() * pieces.length)],
    ).join("");
    const res = await post(body);
    assert.ok(res.status < 500, `${body} gave ${res.status}`);
    await res.body?.cancel();
  }
  const odd = [
    {
      batch: [{ event: "x", anonymous_id: "a", properties: { nul: "\u0000" } }],
    },
    { batch: [{ event: "x\u0000y", anonymous_id: "a" }] },
    {
      batch: [{
        event: "x",
        anonymous_id: "a",
        timestamp: "1999-12-31T23:59:59Z",
      }],
    },
    {
      batch: [{
        event: "x",
        anonymous_id: "a",
        timestamp: "+275760-09-13T00:00:00Z",
      }],
    },
  ];
  for (const body of odd) {
    const res = await post(JSON.stringify(body));
    assert.ok(res.status < 500, `${JSON.stringify(body)} gave ${res.status}`);
    await res.body?.cancel();
  }
});

Deno.test("an event within 32 KiB as text but over the table's stored-size check is rejected alone; the rest of the batch is stored", async () => {
  const empties = `{"a":[${Array(10_000).fill("{}").join(",")}]}`;
  const zeros = `{"a":[${Array(15_000).fill("0").join(",")}]}`;
  assert.ok(empties.length < 32 * 1024 && zeros.length < 32 * 1024);
  const res = await roomy.app.request("/api/v1/events", {
    method: "POST",
    headers: { "content-type": "application/json", apikey: TEST_INGEST_KEY },
    body: `{"batch": [
      {"event": "stored_size_ok", "anonymous_id": "s1"},
      {"event": "stored_size_big", "anonymous_id": "s1", "properties": ${empties}},
      {"event": "stored_size_big", "anonymous_id": "s1", "properties": ${zeros}},
      {"event": "stored_size_ok", "anonymous_id": "s1"}
    ]}`,
  });
  assert.equal(res.status, 200);
  const body = await res.json();
  assert.equal(body.accepted, 2);
  assert.deepEqual(body.rejected.map((r: { index: number; field: string }) => [r.index, r.field]), [
    [1, "properties"],
    [2, "properties"],
  ]);
  assert.match(body.rejected[0].reason, /bytes stored \(jsonb\); at most 65536/);
  assert.equal(await count("event_type = 'stored_size_ok'"), 2);
  assert.equal(await count("event_type = 'stored_size_big'"), 0);
});

Deno.test("when the batch insert fails a check constraint, the good events are still stored and only the bad one is rejected", async () => {
  const event = (index: number, eventType: string, timestamp: string | null): CheckedEvent => ({
    index,
    id: crypto.randomUUID(),
    eventType,
    userId: null,
    anonymousId: "fallback",
    properties: {},
    timestamp,
  });
  const result = await storeEvents(t.db, [
    event(0, "fallback_ok", null),
    event(1, "fallback_bad", new Date(Date.now() + 3 * 86_400_000).toISOString()),
    event(2, "fallback_ok", null),
  ]);
  assert.equal(result.accepted, 2);
  assert.equal(result.duplicates, 0);
  assert.deepEqual(result.rejected.map((r) => [r.index, r.field]), [[1, "timestamp"]]);
  assert.match(result.rejected[0].reason, /events_timestamp_not_future/);
  assert.equal(await count("event_type = 'fallback_ok'"), 2);
  assert.equal(await count("event_type = 'fallback_bad'"), 0);
});

Deno.test("properties nested 10,000 levels deep get that event rejected, not a 500", async () => {
  const deep = '{"a":'.repeat(10_000) + "1" + "}".repeat(10_000);
  const res = await roomy.app.request("/api/v1/events", {
    method: "POST",
    headers: { "content-type": "application/json", apikey: TEST_INGEST_KEY },
    body: `{"batch": [{"event": "deep", "anonymous_id": "d", "properties": ${deep}},
                      {"event": "shallow", "anonymous_id": "d"}]}`,
  });
  assert.equal(res.status, 200);
  assert.deepEqual(await res.json(), {
    accepted: 1,
    duplicates: 0,
    rejected: [{ index: 0, field: "properties", reason: "nests more than 64 levels deep" }],
  });
});

Deno.test("literal text C:\\u0000dir and \\ud83d in properties is stored as sent", async () => {
  const properties = { path: "C:\\u0000dir", half: "\\ud83d" };
  const res = await post(JSON.stringify({ event: "literal_text", anonymous_id: "l", properties }));
  assert.equal(res.status, 200);
  assert.equal((await res.json()).accepted, 1);
  const [{ payload }] = await t.db.query<{ payload: unknown }>(
    "select payload from public.events where event_type = 'literal_text'",
  );
  assert.deepEqual(payload, properties);
});

Deno.test("a number JSON.parse would change is rejected naming the field, and never stored changed", async () => {
  const res = await post(`{"batch": [
    {"event": "lossy", "anonymous_id": "n", "properties": {"order_id": 12345678901234567890}},
    {"event": "lossy", "anonymous_id": "n", "properties": {"x": 1e309}},
    {"event": "exact", "anonymous_id": "n", "properties": {"price": 19.99}}
  ]}`);
  assert.equal(res.status, 200);
  const body = await res.json();
  assert.equal(body.accepted, 1);
  assert.deepEqual(body.rejected.map((r: { index: number; field: string }) => [r.index, r.field]), [
    [0, "properties.order_id"],
    [1, "properties.x"],
  ]);
  assert.equal(await count("event_type = 'lossy'"), 0);
  assert.equal(await count("event_type = 'exact' and payload = '{\"price\": 19.99}'"), 1);
});

Deno.test("failed ingest keys are limited per address: after 20 in a minute, 429 with retry-after, even for the right key", async () => {
  const guesser = "198.51.100.7";
  for (let i = 0; i < 20; i++) {
    const res = await postFrom(guesser, { apikey: `wrong-key-${i}-0123456789` });
    assert.equal(res.status, 401);
    await res.body?.cancel();
  }
  const attempts: Record<string, string>[] = [
    { apikey: "wrong-key-again-0123456789" },
    { apikey: TEST_INGEST_KEY },
    { authorization: `Bearer ${TEST_INGEST_KEY}` },
    { authorization: "Bearer a.b.c" },
  ];
  for (const headers of attempts) {
    const res = await postFrom(guesser, headers);
    assert.equal(res.status, 429, JSON.stringify(headers));
    assert.ok(Number(res.headers.get("retry-after")) > 0);
    assert.equal((await res.json()).error, "too_many_failures");
  }
  const token = await t.token(alice);
  const signedIn = await postFrom(guesser, { authorization: `Bearer ${token}` });
  assert.equal(signedIn.status, 200, "a valid access token still gets through");
  await signedIn.body?.cancel();
  const other = await postFrom("198.51.100.8", { apikey: TEST_INGEST_KEY });
  assert.equal(other.status, 200, "another address is not affected");
  await other.body?.cancel();
});

Deno.test("bad bearer tokens count as failed credentials too", async () => {
  const guesser = "198.51.100.9";
  for (let i = 0; i < 20; i++) {
    const res = await postFrom(guesser, { authorization: `Bearer guess-${i}` });
    assert.equal(res.status, 401);
    await res.body?.cancel();
  }
  const res = await postFrom(guesser, { apikey: TEST_INGEST_KEY });
  assert.equal(res.status, 429);
  await res.body?.cancel();
});
