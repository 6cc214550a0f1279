import assert from "node:assert/strict";
import { signWebhook, webhook, webhookRequest } from "./webhook.ts";
import type { PluginEvent } from "./mod.ts";

const SECRET = "webhook-secret-0123456789";

function events(n: number): PluginEvent[] {
  return Array.from({ length: n }, (_, i) => ({
    id: crypto.randomUUID(),
    event: "page_view",
    userId: null,
    anonymousId: `a${i}`,
    properties: { i },
    timestamp: new Date(Date.UTC(2026, 10, 1, 0, 0, i)).toISOString(),
    receivedAt: new Date().toISOString(),
  }));
}

/** A receiver that checks the signature the way a user's endpoint would. */
function receiver() {
  const received: PluginEvent[] = [];
  const state = { failing: false, requests: 0, badSignatures: 0 };
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
    state.requests++;
    const body = await req.text();
    const header = req.headers.get("beacon-signature") ?? "";
    const t = Number(/t=(\d+)/.exec(header)?.[1]);
    if (header !== await signWebhook(SECRET, body, t) || Math.abs(Date.now() / 1000 - t) > 300) {
      state.badSignatures++;
      return new Response("bad signature", { status: 401 });
    }
    if (state.failing) return new Response("down", { status: 500 });
    received.push(...JSON.parse(body).events);
    return new Response(null, { status: 204 });
  });
  return {
    url: `http://127.0.0.1:${server.addr.port}/hook`,
    received,
    state,
    close: () => server.shutdown(),
  };
}

Deno.test("a batch becomes one signed JSON request (pure)", async () => {
  const batch = events(2);
  const request = await webhookRequest(
    { url: "https://example.com/h", secret: SECRET },
    batch,
    1_700_000_000_000,
  );
  assert.equal(request.url, "https://example.com/h");
  assert.deepEqual(JSON.parse(request.body), { events: batch });
  assert.equal(request.headers["content-type"], "application/json");
  assert.equal(
    request.headers["beacon-signature"],
    await signWebhook(SECRET, request.body, 1_700_000_000),
  );
  assert.notEqual(
    request.headers["beacon-signature"],
    await signWebhook("another-secret-000", request.body, 1_700_000_000),
  );
});

Deno.test("the receiver gets every event with a valid signature; a 500 makes the batch fail for a retry", async () => {
  const hook = receiver();
  const plugin = webhook({ url: hook.url, secret: SECRET });
  try {
    const first = events(10);
    await plugin.onEvents(first);
    assert.deepEqual(hook.received.map((e) => e.id), first.map((e) => e.id));
    hook.state.failing = true;
    const second = events(5);
    await assert.rejects(plugin.onEvents(second), /500/);
    hook.state.failing = false;
    await plugin.onEvents(second);
    assert.equal(hook.received.length, 15);
    assert.equal(hook.state.badSignatures, 0);
    const forged = webhook({ url: hook.url, secret: "not-the-secret-000" });
    await assert.rejects(forged.onEvents(events(1)), /401/);
    assert.equal(hook.state.badSignatures, 1);
  } finally {
    await hook.close();
  }
});
