import assert from "node:assert/strict";
import { correctedTimestamp, mapPostHogEvents, unpackPostHogBody } from "./map.ts";

const NOW = Date.parse("2026-11-26T12:00:00.000Z");
const limits = { maxBatchEvents: 10, maxPropertiesBytes: 32 * 1024 };

Deno.test("with timestamp and sent_at, the event is placed as long before arrival as before sending", () => {
  const at = correctedTimestamp(
    { timestamp: "2026-11-26T13:00:00.000Z" },
    "2026-11-26T13:00:02.500Z",
    NOW,
  );
  assert.equal(new Date(at).toISOString(), "2026-11-26T11:59:57.500Z");
});

Deno.test("a timestamp without sent_at, or with $ignore_sent_at, is kept as sent", () => {
  const item = { timestamp: "2026-11-26T10:00:00Z" };
  assert.equal(correctedTimestamp(item, null, NOW), Date.parse("2026-11-26T10:00:00Z"));
  assert.equal(
    correctedTimestamp(
      { ...item, properties: { $ignore_sent_at: true } },
      "2026-11-26T13:00Z",
      NOW,
    ),
    Date.parse("2026-11-26T10:00:00Z"),
  );
});

Deno.test("offset counts back from arrival; nothing means arrival; unreadable or far-future means arrival", () => {
  assert.equal(correctedTimestamp({ offset: 1500 }, null, NOW), NOW - 1500);
  assert.equal(correctedTimestamp({}, "2026-11-26T13:00Z", NOW), NOW);
  assert.equal(correctedTimestamp({ timestamp: "yesterday-ish" }, null, NOW), NOW);
  assert.equal(correctedTimestamp({ timestamp: "2026-11-28T12:00:00Z" }, null, NOW), NOW);
});

Deno.test("a timestamp without an offset is read as UTC", () => {
  assert.equal(
    correctedTimestamp({ timestamp: "2026-11-26T09:30:00" }, null, NOW),
    Date.parse("2026-11-26T09:30:00Z"),
  );
});

Deno.test("the project key comes from api_key, else the query, else the first event's token", () => {
  const q = new URLSearchParams();
  assert.equal(unpackPostHogBody({ api_key: "a", batch: [{}] }, q, 10).token, "a");
  assert.equal(unpackPostHogBody([{}], new URLSearchParams("token=b"), 10).token, "b");
  assert.equal(
    unpackPostHogBody({ event: "x", properties: { token: "c" } }, q, 10).token,
    "c",
  );
  assert.throws(() => unpackPostHogBody({ batch: new Array(11).fill({}) }, q, 10), /at most 10/);
});

Deno.test("the event's own $set/$set_once join its properties' and the key is not stored", () => {
  const { events, persons } = mapPostHogEvents({
    items: [{
      event: "signed_up",
      distinct_id: "anon-1",
      properties: { token: "k", $set: { a: 1 } },
      $set: { b: 2 },
      $set_once: { c: 3 },
    }],
    sentAt: null,
    token: "k",
  }, { users: new Set(), limits, now: NOW });
  assert.deepEqual(events[0].properties, { $set: { a: 1, b: 2 }, $set_once: { c: 3 } });
  assert.deepEqual(persons, [{
    index: 0,
    person_id: "anon-1",
    user_id: null,
    set: { a: 1, b: 2 },
    set_once: { c: 3 },
    merge_from: null,
  }]);
});

Deno.test("an event naming another project key than the request's is refused alone", () => {
  const { events, rejected } = mapPostHogEvents({
    items: [
      { event: "a", distinct_id: "d", properties: { token: "other" } },
      { event: "b", distinct_id: "d", properties: { token: "k" } },
    ],
    sentAt: null,
    token: "k",
  }, { users: new Set(), limits, now: NOW });
  assert.deepEqual(events.map((e) => e.eventType), ["b"]);
  assert.deepEqual(rejected.map((r) => [r.index, r.field]), [[0, "token"]]);
});
