import assert from "node:assert/strict";
import { checkEvents } from "./check.ts";
import { MAX_PROPERTIES_DEPTH, RequestError } from "./event.ts";
import { parseBody } from "./json.ts";
import { uuidV7Time } from "./uuid.ts";

const limits = { maxBatchEvents: 3, maxPropertiesBytes: 64 };
const anonymous = { kind: "anonymous" } as const;
const user = {
  kind: "user",
  userId: "11111111-1111-4111-8111-111111111111",
} as const;
const now = Date.parse("2026-11-26T12:00:00Z");

function rejectionOf(
  event: unknown,
  sender: typeof anonymous | typeof user = anonymous,
) {
  const { events, rejected } = checkEvents(event, sender, limits, now);
  assert.equal(events.length, 0, "the event should have been rejected");
  return rejected[0];
}

Deno.test("a single event and a batch are both accepted", () => {
  const single = checkEvents(
    { event: "page_view", anonymous_id: "a" },
    anonymous,
    limits,
    now,
  );
  assert.equal(single.events.length, 1);
  const batch = checkEvents(
    {
      batch: [{ event: "a", anonymous_id: "x" }, {
        event: "b",
        anonymous_id: "y",
      }],
    },
    anonymous,
    limits,
    now,
  );
  assert.deepEqual(batch.events.map((e) => [e.index, e.eventType]), [[0, "a"], [
    1,
    "b",
  ]]);
});

Deno.test("each bad event is named by index, field and reason; the good ones go on", () => {
  const { events, rejected } = checkEvents(
    {
      batch: [{ event: "ok", anonymous_id: "a" }, { anonymous_id: "a" }, {
        event: "ok2",
        anonymous_id: "b",
      }],
    },
    anonymous,
    limits,
    now,
  );
  assert.deepEqual(events.map((e) => e.eventType), ["ok", "ok2"]);
  assert.deepEqual(rejected, [{
    index: 1,
    field: "event",
    reason: "required: the event type as a string",
  }]);
});

Deno.test("every field is checked", () => {
  assert.equal(
    rejectionOf({ event: "x".repeat(201), anonymous_id: "a" }).field,
    "event",
  );
  assert.equal(rejectionOf({ event: "", anonymous_id: "a" }).field, "event");
  assert.equal(
    rejectionOf({ event: "e", anonymous_id: "a", properties: [1] }).field,
    "properties",
  );
  assert.match(
    rejectionOf({
      event: "e",
      anonymous_id: "a",
      properties: { big: "x".repeat(100) },
    }).reason,
    /at most 64/,
  );
  assert.equal(
    rejectionOf({
      event: "e",
      anonymous_id: "a",
      timestamp: "2026-11-26 10:00",
    }).field,
    "timestamp",
  );
  assert.equal(
    rejectionOf({
      event: "e",
      anonymous_id: "a",
      timestamp: "2026-11-26T10:00:00",
    }).field,
    "timestamp",
  );
  assert.match(
    rejectionOf({
      event: "e",
      anonymous_id: "a",
      timestamp: "2026-11-28T12:00:01Z",
    }).reason,
    /1 day in the future/,
  );
  assert.equal(
    rejectionOf({
      event: "e",
      anonymous_id: "a",
      timestamp: "2026-02-30T10:00:00Z",
    }).field,
    "timestamp",
  );
  assert.equal(
    rejectionOf({ event: "e", anonymous_id: "a", uuid: "not-a-uuid" }).field,
    "uuid",
  );
  assert.equal(
    rejectionOf({ event: "e", anonymous_id: 5 }).field,
    "anonymous_id",
  );
  assert.equal(rejectionOf({ event: "e" }).field, "anonymous_id");
  assert.equal(rejectionOf({ batch: ["just a string"] }).field, "");
});

Deno.test("timestamps in any UTC offset are kept as the same instant", () => {
  const { events } = checkEvents(
    { event: "e", anonymous_id: "a", timestamp: "2026-11-26T10:30:00+05:30" },
    anonymous,
    limits,
    now,
  );
  assert.equal(events[0].timestamp, "2026-11-26T05:00:00.000Z");
});

Deno.test("a signed-in sender's events belong to them, whatever the body says", () => {
  const { events } = checkEvents(
    { event: "e", user_id: "22222222-2222-4222-8222-222222222222" },
    user,
    limits,
    now,
  );
  assert.equal(events[0].userId, user.userId);
  assert.equal(events[0].anonymousId, null);
});

Deno.test("a given uuid becomes the event id; without one a time-ordered id (v7) of now is made", () => {
  const { events } = checkEvents(
    {
      batch: [{
        event: "e",
        anonymous_id: "a",
        uuid: "0B6A1F9E-3C1D-4E7A-9A57-2F1F5B2D8C11",
      }, { event: "e", anonymous_id: "a" }],
    },
    anonymous,
    limits,
    now,
  );
  assert.equal(events[0].id, "0b6a1f9e-3c1d-4e7a-9a57-2f1f5b2d8c11");
  assert.equal(uuidV7Time(events[1].id), now);
});

Deno.test("problems with the whole request throw with a status", () => {
  const status = (body: unknown) => {
    try {
      checkEvents(body, anonymous, limits, now);
    } catch (error) {
      assert.ok(error instanceof RequestError);
      return error.status;
    }
    return 200;
  };
  assert.equal(status({ batch: [] }), 400);
  assert.equal(status({ batch: "x" }), 400);
  assert.equal(status([1, 2]), 400);
  assert.equal(status(null), 400);
  assert.equal(status({ batch: [{}, {}, {}, {}] }), 413);
});

/** Properties nested `depth` levels deep (the properties object itself is level 1). */
function nested(depth: number): string {
  return '{"a":'.repeat(depth - 1) + "{}" + "}".repeat(depth - 1);
}

function checkText(text: string, big = 64 * 1024) {
  return checkEvents(parseBody(text), anonymous, {
    maxBatchEvents: 3,
    maxPropertiesBytes: big,
  }, now);
}

Deno.test("properties nested deeper than 64 levels are rejected alone, even 10,000 levels deep", () => {
  assert.equal(MAX_PROPERTIES_DEPTH, 64);
  const { events, rejected } = checkText(
    `{"batch": [{"event": "deep", "anonymous_id": "a", "properties": ${nested(10_000)}},
      {"event": "limit", "anonymous_id": "a", "properties": ${nested(64)}},
      {"event": "over", "anonymous_id": "a", "properties": ${nested(65)}}]}`,
  );
  assert.deepEqual(events.map((e) => e.eventType), ["limit"]);
  assert.deepEqual(
    rejected,
    [0, 2].map((index) => ({
      index,
      field: "properties",
      reason: "nests more than 64 levels deep",
    })),
  );
  const arrays = checkText(
    `{"event": "e", "anonymous_id": "a", "properties": {"a": ${
      "[".repeat(10_000) + "]".repeat(10_000)
    }}}`,
  );
  assert.equal(arrays.rejected[0].reason, "nests more than 64 levels deep");
});

Deno.test("literal backslash text such as C:\\u0000dir or \\ud83d in values and keys is accepted", () => {
  const { events, rejected } = checkText(JSON.stringify({
    event: "e",
    anonymous_id: "a",
    properties: { path: "C:\\u0000dir", emoji: "\\ud83d", "key\\u0000": ["\\uDFFF"] },
  }));
  assert.deepEqual(rejected, []);
  assert.equal(events[0].properties.path, "C:\\u0000dir");
});

Deno.test("a real NUL or lone surrogate in a property value or key is rejected, naming where", () => {
  const reject = (properties: unknown) =>
    checkText(JSON.stringify({ event: "e", anonymous_id: "a", properties })).rejected[0];
  assert.equal(reject({ a: { b: ["x", "C:\u0000dir"] } }).field, "properties.a.b[1]");
  assert.match(reject({ a: { b: ["x", "C:\u0000dir"] } }).reason, /NUL/);
  assert.equal(reject({ emoji: "\ud83d" }).field, "properties.emoji");
  assert.equal(reject({ nested: { "k\u0000": 1 } }).field, "properties.nested");
  assert.match(reject({ nested: { "k\u0000": 1 } }).reason, /^has a key that contains the NUL/);
});

Deno.test("numbers JSON.parse would change are rejected naming the field; exact numbers pass", () => {
  const { events, rejected } = checkText(`{"batch": [
    {"event": "big", "anonymous_id": "a", "properties": {"id": 12345678901234567890}},
    {"event": "inf", "anonymous_id": "a", "properties": {"list": [1, {"x": 1e309}]}},
    {"event": "ok", "anonymous_id": "a", "properties": {"a": 1.5e3, "b": 0.1, "c": -0,
      "d": 9007199254740991, "e": 1e21, "f": 1.50, "g": 5e-324, "h": 0.30000000000000004,
      "uuid": "9e0b1f9e-3c1d-4e7a-9a57-2f1f5b2d8c11"}}
  ]}`);
  assert.deepEqual(events.map((e) => e.eventType), ["ok"]);
  assert.deepEqual(events[0].properties.a, 1500);
  assert.deepEqual(rejected.map((r) => [r.index, r.field]), [
    [0, "properties.id"],
    [1, "properties.list[1].x"],
  ]);
  assert.match(rejected[0].reason, /12345678901234567890 cannot be kept exactly/);
  const tiny = checkText(`{"event": "e", "anonymous_id": "a", "properties": {"t": 1e-400}}`);
  assert.equal(tiny.rejected[0].field, "properties.t");
  const precise = checkText(
    `{"event": "e", "anonymous_id": "a", "properties": {"p": 0.10000000000000000555}}`,
  );
  assert.equal(precise.rejected[0].field, "properties.p");
});

Deno.test("a lossy number in another event's field does not touch the good events", () => {
  const { events, rejected } = checkText(`{"batch": [
    {"event": "a", "anonymous_id": "x", "properties": {"n": 1}, "extra": 1e999},
    {"event": 1e999, "anonymous_id": "x"}
  ]}`);
  assert.deepEqual(events.map((e) => e.eventType), ["a"]);
  assert.deepEqual(rejected.map((r) => [r.index, r.field]), [[1, "event"]]);
});
