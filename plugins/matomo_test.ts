import assert from "node:assert/strict";
import { matomo, MatomoError, readBulkAnswer, trackerEndpoint } from "./matomo.ts";
import { matomoVisitorId } from "./matomo_request.ts";
import type { PluginEvent } from "./mod.ts";
import { createLogger, type LogFields } from "../log/mod.ts";
import { fakeMatomo } from "../tests/support/fake_matomo.ts";

const USER = "0d8a7c6e-5b4a-4f3e-8d2c-1b0a9f8e7d6c";
const THREE_DAYS_AGO = Date.now() - 3 * 86_400_000;

function event(overrides: Partial<PluginEvent> = {}): PluginEvent {
  return {
    id: crypto.randomUUID(),
    event: "page_view",
    userId: null,
    anonymousId: "anon-1",
    properties: {},
    timestamp: new Date(THREE_DAYS_AGO).toISOString(),
    receivedAt: new Date().toISOString(),
    ...overrides,
  };
}

Deno.test("the tracker endpoint is <url>/matomo.php unless the URL names it", () => {
  assert.equal(trackerEndpoint("https://m.example.com/"), "https://m.example.com/matomo.php");
  assert.equal(
    trackerEndpoint("https://m.example.com/a/piwik.php"),
    "https://m.example.com/a/piwik.php",
  );
});

Deno.test("Matomo's answers: success counts, errors and foreign answers throw", () => {
  const batch = [event(), event(), event()];
  assert.deepEqual(
    readBulkAnswer(
      200,
      '{"status":"success","tracked":2,"invalid":1,"invalid_indices":[1]}',
      batch,
    ),
    { tracked: 2, invalid: 1, invalidIds: [batch[1].id] },
  );
  const failures: Array<[number, string, boolean]> = [
    [500, '{"status":"error","tracked":0,"invalid":0}', true],
    [503, "maintenance", true],
    [429, "slow down", true],
    [400, '{"status":"error","tracked":0,"invalid":0}', false],
    [200, "GIF89a", true],
    [200, '{"status":"success","tracked":0,"invalid":3}', false],
  ];
  for (const [status, body, retryable] of failures) {
    assert.throws(
      () => readBulkAnswer(status, body, batch),
      (e) => e instanceof MatomoError && e.retryable === retryable,
      `${status} ${body}`,
    );
  }
});

Deno.test("a batch reaches Matomo as one bulk request, every parameter as the API documents it", async () => {
  const server = fakeMatomo();
  const plugin = matomo({ url: server.url, siteId: server.siteId, tokenAuth: server.tokenAuth });
  try {
    const batch = Array.from({ length: 40 }, (_, i) =>
      event({
        event: i % 2 ? "page_view" : "button_click",
        userId: i % 3 ? null : USER,
        anonymousId: `anon-${i % 5}`,
        properties: i % 2
          ? { url: `https://app.example.com/p/${i}`, title: `Page ${i}` }
          : { name: `button-${i}`, value: i },
        timestamp: new Date(THREE_DAYS_AGO + i * 1000).toISOString(),
      }));
    await plugin.onEvents(batch);
    assert.equal(server.state.bulkRequests, 1);
    assert.deepEqual(server.violations, []);
    assert.equal(server.tracked.length, 40, "three-day-old events are accepted with the token");
    for (const [i, sent] of batch.entries()) {
      const got = server.tracked[i];
      assert.equal(got.idsite, "7");
      assert.equal(got.cdt, String(Math.floor(Date.parse(sent.timestamp) / 1000)));
      assert.equal(got._id, await matomoVisitorId(sent.userId ?? sent.anonymousId!));
      assert.equal(got.uid, sent.userId ?? undefined);
      if (i % 2) {
        assert.equal(got.url, sent.properties.url);
        assert.equal(got.action_name, sent.properties.title);
      } else {
        assert.deepEqual([got.e_c, got.e_a, got.e_n, got.e_v], [
          "button",
          "button_click",
          `button-${i}`,
          String(i),
        ]);
      }
      assert.equal(got.token_auth, undefined, "the token is never in a request string");
    }
  } finally {
    await server.close();
  }
});

Deno.test("with a wrong token Matomo refuses old events: the batch fails instead of being dropped", async () => {
  const server = fakeMatomo();
  const plugin = matomo({ url: server.url, siteId: server.siteId, tokenAuth: "not-the-token" });
  try {
    await assert.rejects(plugin.onEvents([event(), event()]), /refused all 2 events/);
    assert.equal(server.tracked.length, 0);
    const other = matomo({ url: server.url, siteId: 99, tokenAuth: server.tokenAuth });
    await assert.rejects(other.onEvents([event()]), /site id/);
    const wrongPath = matomo({ url: `${server.url}/elsewhere.php`, siteId: 7, tokenAuth: "x" });
    await assert.rejects(wrongPath.onEvents([event()]), /404/);
  } finally {
    await server.close();
  }
});

Deno.test("while Matomo answers 500 or refuses connections the batch fails; afterwards it is tracked once", async () => {
  const server = fakeMatomo();
  const plugin = matomo({
    url: server.url,
    siteId: 7,
    tokenAuth: server.tokenAuth,
    timeoutMs: 2000,
  });
  try {
    const batch = Array.from(
      { length: 10 },
      (_, i) => event({ event: "signup", properties: { name: `n${i}` } }),
    );
    server.state.failing = true;
    await assert.rejects(plugin.onEvents(batch), /Matomo answered 500/);
    server.state.failing = false;
    await server.refuse();
    await assert.rejects(
      plugin.onEvents(batch),
      (e) => e instanceof MatomoError && e.retryable && /could not be reached/.test(e.message),
    );
    server.accept();
    await plugin.onEvents(batch);
    assert.deepEqual(server.tracked.map((t) => t.e_n), batch.map((e) => e.properties.name));
    assert.deepEqual(server.violations, []);
  } finally {
    await server.close();
  }
});

Deno.test("a poisoned event among good ones is handed back as refused by id; the rest are tracked once", async () => {
  const server = fakeMatomo();
  const lines: LogFields[] = [];
  const plugin = matomo({ url: server.url, siteId: 7, tokenAuth: server.tokenAuth });
  try {
    await plugin.setup?.({ log: createLogger({ write: (line) => lines.push(JSON.parse(line)) }) });
    server.state.poisoned = (p) => p.e_n === "poison";
    const batch = ["a", "poison", "b"].map((name) => event({ event: "x", properties: { name } }));
    const outcome = await plugin.onEvents(batch);
    assert.deepEqual(server.tracked.map((t) => t.e_n), ["a", "b"]);
    assert.deepEqual(outcome?.refused?.map((r) => r.id), [batch[1].id]);
    await assert.rejects(plugin.onEvents([batch[1]]), (e: MatomoError) => e.retryable === false);
    const warning = lines.find((l) => /refused events as invalid/.test(String(l.msg)));
    assert.ok(warning, JSON.stringify(lines));
    assert.deepEqual(warning.event_ids, [batch[1].id]);
  } finally {
    await server.close();
  }
});
