import assert from "node:assert/strict";
import { posthog, toPostHogCapture } from "./posthog.ts";
import type { PluginEvent } from "./mod.ts";
import { silentLogger } from "../log/mod.ts";
import { fakePostHog } from "../tests/support/fake_services.ts";

function events(n: number, offset = 0): PluginEvent[] {
  return Array.from({ length: n }, (_, i) => ({
    id: crypto.randomUUID(),
    event: i % 2 ? "page_view" : "signup",
    userId: i % 3 ? null : "0d8a7c6e-5b4a-4f3e-8d2c-1b0a9f8e7d6c",
    anonymousId: `anon-${offset + i}`,
    properties: { n: offset + i, nested: { ok: true } },
    timestamp: new Date(Date.UTC(2026, 10, 20, 12, 0, offset + i)).toISOString(),
    receivedAt: new Date().toISOString(),
  }));
}

Deno.test("a Beacon event becomes a PostHog capture with the same id", () => {
  const [event] = events(1);
  const capture = toPostHogCapture(event);
  assert.equal(capture.distinctId, event.userId);
  assert.equal(capture.uuid, event.id);
  assert.equal(capture.timestamp.toISOString(), event.timestamp);
  assert.equal(toPostHogCapture({ ...event, userId: null }).distinctId, event.anonymousId);
});

Deno.test("posthog-node delivers every field to PostHog's batch endpoint", async () => {
  const server = fakePostHog();
  const plugin = posthog({ apiKey: "phc_test", host: server.host, fetchRetryDelay: 10 });
  try {
    await plugin.setup?.({ log: silentLogger });
    const batch = events(150);
    await plugin.onEvents(batch);
    assert.equal(server.received.length, 150, "flushed before onEvents resolved");
    assert.deepEqual([...server.state.apiKeys], ["phc_test"]);
    const byUuid = new Map(server.received.map((e) => [e.uuid, e]));
    for (const sent of batch) {
      // deno-lint-ignore no-explicit-any
      const got = byUuid.get(sent.id) as Record<string, any>;
      assert.ok(got, `event ${sent.id} arrived`);
      assert.equal(got.event, sent.event);
      assert.equal(got.distinct_id, sent.userId ?? sent.anonymousId);
      assert.equal(new Date(got.timestamp).toISOString(), sent.timestamp);
      assert.equal(got.properties.n, sent.properties.n);
      assert.deepEqual(got.properties.nested, { ok: true });
    }
  } finally {
    await plugin.shutdown?.();
    await server.close();
  }
});

Deno.test("while PostHog answers 500 the batch is handed back; after recovery every event arrives", async () => {
  const server = fakePostHog();
  const plugin = posthog({
    apiKey: "phc_test",
    host: server.host,
    fetchRetryCount: 1,
    fetchRetryDelay: 10,
  });
  try {
    await plugin.setup?.({ log: silentLogger });
    const batch = events(30);
    server.state.failing = true;
    // The forwarder retries a failed batch as it is: do the same here.
    await assert.rejects(plugin.onEvents(batch));
    await assert.rejects(plugin.onEvents(batch));
    assert.ok(server.state.requests >= 2);
    assert.equal(server.received.length, 0);
    server.state.failing = false;
    await plugin.onEvents(batch);
    const uuids = new Set(server.received.map((e) => e.uuid));
    assert.deepEqual([...uuids].sort(), batch.map((e) => e.id).sort(), "every event arrived");
    assert.equal(server.received.length, batch.length, "and none twice");
  } finally {
    await plugin.shutdown?.();
    await server.close();
  }
});
