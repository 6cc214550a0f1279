/**
 * A plugin that can never accept an event does not stop forever: the webhook, PostHog
 * (posthog-node) and Matomo plugins, each against its local stand-in refusing one poisoned
 * event among good ones, deliver every good event once, dead-letter the poisoned one after a
 * bounded number of attempts, report it per plugin, and deliver it on replay once the
 * stand-in is fixed. On PGlite and on PostgreSQL 15.
 */
import assert from "node:assert/strict";
import { createForwarder, type Forwarder } from "../plugins/forwarder.ts";
import { webhook } from "../plugins/webhook.ts";
import { posthog } from "../plugins/posthog.ts";
import { matomo } from "../plugins/matomo.ts";
import type { Database } from "../database/mod.ts";
import { createLogger, type LogFields, silentLogger } from "../log/mod.ts";
import { missingPostgres15, skipWithoutPostgres15 } from "./support/postgres15.ts";
import { openMigratedPglite, startMigratedPostgres15 } from "./support/database.ts";
import { fakePostHog, fakeWebhookReceiver } from "./support/fake_services.ts";
import { fakeMatomo } from "./support/fake_matomo.ts";
import { waitFor as waitUntil } from "./support/steps.ts";

const waitFor = (what: string, check: () => boolean | Promise<boolean>) =>
  waitUntil(what, check, { timeoutMs: 20_000, intervalMs: 25 });

const CONFIG = {
  batchSize: 10,
  pollIntervalMs: 20,
  minBackoffMs: 5,
  maxBackoffMs: 40,
  permanentAttempts: 3,
};

const POISON = "poison";

/** 24 good events and the poisoned one 13th, in one transaction; returns the ids in order. */
async function insertWithPoison(db: Database): Promise<{ good: string[]; poisonId: string }> {
  const rows = await db.query<{ id: string; name: string }>(
    `insert into public.events (event_type, anonymous_id, payload, "timestamp")
     select 'plan_chosen', 'visitor-' || (g % 3),
            jsonb_build_object('name', case when g = 13 then $1 else 'good-' || g end, 'value', g),
            now() - interval '1 hour' + g * interval '1 second'
       from generate_series(1, 25) g
     returning id::text as id, payload ->> 'name' as name`,
    [POISON],
  );
  return {
    good: rows.filter((r) => r.name !== POISON).map((r) => r.id),
    poisonId: rows.find((r) => r.name === POISON)!.id,
  };
}

function standIns() {
  const hook = fakeWebhookReceiver();
  const ph = fakePostHog();
  const mt = fakeMatomo();
  const poisoned = (e: Record<string, unknown>) =>
    (e.properties as Record<string, unknown>)?.name === POISON;
  hook.state.rejects = poisoned;
  ph.state.rejects = poisoned;
  mt.state.poisoned = (p) => p.e_n === POISON;
  const fix = () => {
    hook.state.rejects = () => false;
    ph.state.rejects = () => false;
    mt.state.poisoned = () => false;
  };
  const close = async () => {
    await hook.close();
    await ph.close();
    await mt.close();
  };
  return { hook, ph, mt, fix, close };
}

function plugins(s: ReturnType<typeof standIns>) {
  return [
    webhook({ url: s.hook.url, secret: "s3cret-s3cret-s3cret", timeoutMs: 5000 }),
    posthog({ apiKey: "phc_dead", host: s.ph.host, fetchRetryCount: 0, fetchRetryDelay: 1 }),
    matomo({ url: s.mt.url, siteId: s.mt.siteId, tokenAuth: s.mt.tokenAuth, timeoutMs: 5000 }),
  ];
}

async function deadLetters(db: Database) {
  return await db.query<
    { plugin: string; event_id: string; attempts: number; error: string; ordered: boolean }
  >(
    `select plugin, event_id::text as event_id, attempts, error,
            first_failed_at <= last_failed_at as ordered
       from beacon.plugin_dead_letters order by plugin`,
  );
}

async function poisonedAmongGood(db: Database) {
  const s = standIns();
  const { good, poisonId } = await insertWithPoison(db);
  const forwarder: Forwarder = createForwarder({
    db,
    plugins: plugins(s),
    config: CONFIG,
    log: silentLogger,
  });
  await forwarder.start();
  try {
    await waitFor("every plugin through the poisoned event", async () => {
      const status = await forwarder.status();
      return status.every((p) => p.lag === 0 && p.deadLettered === 1);
    });
    // Every good event delivered once, in order; the poisoned one never accepted.
    assert.deepEqual(s.hook.received.map((e) => e.id), good, "webhook: every good event once");
    assert.deepEqual(s.ph.received.map((e) => e.uuid), good, "PostHog: every good event once");
    assert.deepEqual(
      s.mt.tracked.map((t) => t.e_n),
      Array.from({ length: 25 }, (_, i) => `good-${i + 1}`).filter((n) => n !== "good-13"),
      "Matomo: every good event once",
    );
    assert.deepEqual(s.mt.violations, []);
    const letters = await deadLetters(db);
    assert.deepEqual(letters.map((l) => [l.plugin, l.event_id, l.attempts, l.ordered]), [
      ["matomo", poisonId, 3, true],
      ["posthog", poisonId, 3, true],
      ["webhook", poisonId, 3, true],
    ]);
    assert.match(letters[0].error, /Matomo refused/);
    assert.match(letters[1].error, /status=400/);
    assert.match(letters[2].error, /422/);
    const status = await forwarder.status();
    assert.deepEqual(status.map((p) => [p.name, p.delivered, p.deadLettered, p.failures]), [
      ["webhook", 24, 1, 0],
      ["posthog", 24, 1, 0],
      ["matomo", 24, 1, 0],
    ]);

    // Replay while the stand-ins still refuse it: kept, attempts counted.
    const refusedAgain = await forwarder.replay("webhook");
    assert.deepEqual([refusedAgain.replayed, refusedAgain.failed], [0, 1]);
    assert.equal((await deadLetters(db)).find((l) => l.plugin === "webhook")!.attempts, 4);

    // Fixed: replay delivers it, once, and the dead letters are gone.
    s.fix();
    for (const name of ["webhook", "posthog", "matomo"]) {
      const result = await forwarder.replay(name);
      assert.deepEqual([result.plugin, result.replayed, result.failed], [name, 1, 0]);
    }
    assert.deepEqual(s.hook.received.map((e) => e.id), [...good, poisonId]);
    assert.deepEqual(s.ph.received.map((e) => e.uuid), [...good, poisonId]);
    assert.equal(s.mt.tracked.filter((t) => t.e_n === POISON).length, 1);
    assert.deepEqual(await deadLetters(db), []);
    assert.ok((await forwarder.status()).every((p) => p.deadLettered === 0));
    await assert.rejects(forwarder.replay("nobody"), /no plugin is named "nobody"/);
  } finally {
    await forwarder.stop();
    await s.close();
  }
}

async function retryAfterHonoured(db: Database) {
  const hook = fakeWebhookReceiver();
  const lines: LogFields[] = [];
  const log = createLogger({ write: (line) => lines.push(JSON.parse(line)) });
  const plugin = webhook({ url: hook.url, secret: "s3cret-s3cret-s3cret", name: "patient" });
  hook.state.answers.push({ status: 429, retryAfter: "1" }, { status: 503 }, { status: 408 });
  const forwarder = createForwarder({ db, plugins: [plugin], config: CONFIG, log });
  await forwarder.start();
  try {
    await waitFor(
      "delivery after the 429, 503 and 408",
      async () => (await forwarder.status())[0].lag === 0,
    );
    const retries = lines.filter((l) => l.msg === "plugin delivery failed; will retry");
    assert.deepEqual(
      retries.map((l) => [l.error, l.retry_in_ms]),
      [
        ["webhook answered 429 Too Many Requests", 1000],
        ["webhook answered 503 Service Unavailable", 10],
        ["webhook answered 408 Request Timeout", 20],
      ],
      "429 waits its Retry-After instead of the backoff; 503 and 408 are retried, not dead-lettered",
    );
    assert.equal((await forwarder.status())[0].deadLettered, 0);
    assert.equal(hook.received.length, await countEvents(db));
  } finally {
    await forwarder.stop();
    await hook.close();
  }
}

async function countEvents(db: Database): Promise<number> {
  const [{ n }] = await db.query<{ n: number }>("select count(*)::int as n from public.events");
  return n;
}

Deno.test("dead letters on PGlite: a poisoned event is dead-lettered, the good ones delivered once, replay delivers it", async (t) => {
  const db = await openMigratedPglite();
  try {
    await t.step(
      "webhook, PostHog and Matomo each dead-letter the poisoned event and go on",
      () => poisonedAmongGood(db),
    );
    await t.step(
      "a 429's Retry-After is honoured; 408 and 5xx are retried",
      () => retryAfterHonoured(db),
    );
  } finally {
    await db.close();
  }
});

const missing = await missingPostgres15();
Deno.test({
  name:
    "dead letters on PostgreSQL 15: a poisoned event is dead-lettered, the good ones delivered once, replay delivers it",
  ignore: skipWithoutPostgres15(missing),
  async fn(t) {
    assert.deepEqual(missing, []);
    const { pg, db } = await startMigratedPostgres15();
    try {
      await t.step(
        "webhook, PostHog and Matomo each dead-letter the poisoned event and go on",
        () => poisonedAmongGood(db),
      );
      await t.step(
        "a 429's Retry-After is honoured; 408 and 5xx are retried",
        () => retryAfterHonoured(db),
      );
    } finally {
      await db.close();
      await pg.stop();
    }
  },
});
