import assert from "node:assert/strict";
import { createTestApp, createUser, TEST_INGEST_KEY } from "../../tests/support/app.ts";
import { issueAccessToken } from "../../server/auth.ts";

const t = await createTestApp({
  config: { limits: { maxBatchEvents: 5, maxBodyBytes: 4096 } },
});
const alice = await createUser(t.db, "alice@events-route.test");

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

Deno.test({
  name: "close the test database",
  fn: () => t.close(),
  sanitizeResources: false,
  sanitizeOps: false,
});
