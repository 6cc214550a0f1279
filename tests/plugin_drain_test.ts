/**
 * Plugin drains (`POST /api/v1/plugins/drain`, `plugins/drain.ts`) on PostgreSQL 15, with
 * the PostHog plugin against the local PostHog stand-in: delivery from the cursor, two
 * drains at once (two edge isolates, each with its own plugin), the time budget, a failing
 * plugin, and who may call it.
 */
import assert from "node:assert/strict";
import { drainPlugins } from "../plugins/drain.ts";
import { posthog } from "../plugins/posthog.ts";
import { matomo } from "../plugins/matomo.ts";
import type { BeaconPlugin } from "../plugins/mod.ts";
import type { Database } from "../database/mod.ts";
import { silentLogger } from "../log/mod.ts";
import { createForwarder } from "../plugins/forwarder.ts";
import { missingPostgres15, skipWithoutPostgres15 } from "./support/postgres15.ts";
import { startOwnMigratedPostgres15 } from "./support/database.ts";
import { runSteps, waitFor } from "./support/steps.ts";
import { fakePostHog } from "./support/fake_services.ts";
import { fakeMatomo } from "./support/fake_matomo.ts";
import { createTestApp } from "./support/app.ts";

const SECRET = "drain-secret-0123456789abcdef";

function posthogPlugin(host: string): BeaconPlugin {
  return posthog({ apiKey: "phc_drain", host, fetchRetryCount: 0, fetchRetryDelay: 1 });
}

async function insertEvents(db: Database, type: string, n: number): Promise<void> {
  await db.query(
    `insert into public.events (event_type, anonymous_id, payload)
     select $1, 'visitor', jsonb_build_object('n', g) from generate_series(1, $2) g`,
    [type, n],
  );
}

async function cursorOf(db: Database, plugin: string) {
  const [row] = await db.query<{ seq: string; failures: number; last_error: string | null }>(
    "select last_seq::text as seq, failures, last_error from beacon.plugin_cursors where plugin = $1",
    [plugin],
  );
  return row;
}

function drain(db: Database, plugins: BeaconPlugin[], budgetMs = 10_000, minBackoffMs?: number) {
  return drainPlugins({ db, plugins, batchSize: 500, budgetMs, log: silentLogger, minBackoffMs });
}

const missing = await missingPostgres15();
Deno.test({
  name: "plugin drains on PostgreSQL 15 with the PostHog stand-in",
  ignore: skipWithoutPostgres15(missing),
  async fn(t) {
    assert.deepEqual(missing, []);
    // A cluster of its own: drains read only events older than every running transaction
    // (the delivery order), which other suites' open transactions on a shared cluster hold
    // back.
    const { pg, db } = await startOwnMigratedPostgres15();
    const server = fakePostHog();
    try {
      await runSteps(t, {
        "a drain delivers one batch from the cursor and says how far it got": async () => {
          await insertEvents(db, "first", 700);
          const plugin = posthogPlugin(server.host);
          const first = await drain(db, [plugin]);
          assert.deepEqual(first.plugins, [{
            name: "posthog",
            status: "delivered",
            delivered: 500,
            lag: 200,
          }]);
          assert.equal(server.uuids().size, 500);
          const second = await drain(db, [plugin]);
          assert.equal(second.plugins[0].delivered, 200);
          assert.equal(second.plugins[0].lag, 0);
          const idle = await drain(db, [plugin]);
          assert.equal(idle.plugins[0].status, "idle");
          assert.equal(server.received.length, 700, "no event was sent twice");
          assert.equal(server.uuids().size, 700);
        },
        "two drains at once deliver each event once": async () => {
          server.received.length = 0;
          await insertEvents(db, "concurrent", 300);
          let release!: () => void;
          server.state.hold = new Promise((resolve) => (release = resolve));
          const requestsBefore = server.state.requests;
          // Two isolates: each its own plugin object, one cursor in the database.
          const a = drain(db, [posthogPlugin(server.host)]);
          await waitFor(
            "the first drain's request to PostHog",
            () => server.state.requests > requestsBefore,
          );
          const b = await drain(db, [posthogPlugin(server.host)], 2_000);
          assert.equal(b.plugins[0].status, "busy", "the second drain leaves the plugin alone");
          release();
          server.state.hold = undefined;
          const done = await a;
          assert.equal(done.plugins[0].status, "delivered");
          assert.equal(done.plugins[0].delivered, 300);
          assert.equal(server.received.length, 300);
          assert.equal(server.uuids().size, 300);
        },
        "a drain keeps to its time budget and leaves the cursor where it was": async () => {
          await insertEvents(db, "slow", 10);
          const before = await cursorOf(db, "posthog");
          let release!: () => void;
          server.state.hold = new Promise((resolve) => (release = resolve));
          const webhookLike: BeaconPlugin = { name: "second", onEvents: () => Promise.resolve() };
          try {
            // Without the budget this would wait for PostHog, which waits for release().
            const report = await drain(db, [posthogPlugin(server.host), webhookLike], 300);
            assert.equal(report.plugins[0].status, "timeout");
            assert.match(report.plugins[0].error ?? "", /budget \(300 ms\)/);
            assert.equal(report.plugins[1].status, "skipped", "no time left for the next one");
            assert.equal((await cursorOf(db, "posthog")).seq, before.seq);
          } finally {
            release();
            server.state.hold = undefined;
          }
          const next = await drain(db, [posthogPlugin(server.host)]);
          assert.equal(next.plugins[0].status, "delivered");
          assert.equal(next.plugins[0].delivered, 10, "the next drain sends the same batch");
        },
        "a failing plugin leaves the cursor where it was, and the next drain retries": async () => {
          await insertEvents(db, "while_down", 5);
          const before = await cursorOf(db, "posthog");
          server.state.failing = true;
          const plugin = posthogPlugin(server.host);
          try {
            const report = await drain(db, [plugin]);
            assert.equal(report.plugins[0].status, "failed");
            assert.equal(report.plugins[0].lag, 5);
            const after = await cursorOf(db, "posthog");
            assert.equal(after.seq, before.seq);
            assert.equal(after.failures, 1);
            assert.ok(after.last_error);
          } finally {
            server.state.failing = false;
          }
          const retry = await drain(db, [plugin]);
          assert.equal(retry.plugins[0].delivered, 5);
          assert.equal((await cursorOf(db, "posthog")).failures, 0);
        },
        "a poisoned event is dead-lettered by the drain; the good ones around it are delivered once":
          async () => {
            server.received.length = 0;
            await db.query(
              `insert into public.events (event_type, anonymous_id, payload)
               select case when g = 5 then 'poisoned' else 'wholesome' end, 'visitor',
                      jsonb_build_object('n', g)
                 from generate_series(1, 9) g`,
            );
            server.state.rejects = (event) => event.event === "poisoned";
            const plugin = posthogPlugin(server.host);
            try {
              const reports = [];
              for (let i = 0; i < 4; i++) reports.push((await drain(db, [plugin])).plugins[0]);
              assert.equal(reports[0].status, "delivered", JSON.stringify(reports[0]));
              assert.equal(reports[0].delivered, 8);
              assert.equal(reports[0].lag, 0, "the cursor is past the poisoned event");
              assert.deepEqual(reports.slice(1).map((r) => r.status), ["idle", "idle", "idle"]);
            } finally {
              server.state.rejects = () => false;
            }
            const wholesome = server.received.filter((e) => e.event === "wholesome");
            assert.equal(wholesome.length, 8, "each good event was delivered once");
            assert.equal(new Set(wholesome.map((e) => e.uuid)).size, 8);
            assert.equal(server.received.filter((e) => e.event === "poisoned").length, 0);
            const letters = await db.query<{ type: string; attempts: number }>(
              `select e.event_type as type, d.attempts from beacon.plugin_dead_letters d
                 join public.events e on e.id = d.event_id
                where d.plugin = 'posthog'`,
            );
            assert.deepEqual(letters.map((l) => l.type), ["poisoned"]);
            assert.equal(letters[0].attempts, 3, "tried alone until its last attempt");
            const cursor = await cursorOf(db, "posthog");
            assert.equal(cursor.failures, 0);
          },
        "a destination that refuses one event, then answers 503 and 429: each good event goes once, no drain outlasts its budget":
          async () => {
            server.received.length = 0;
            await db.query(
              `insert into public.events (event_type, anonymous_id, payload)
               select case when g = 5 then 'tainted' else 'sound' end, 'visitor',
                      jsonb_build_object('n', g)
                 from generate_series(1, 9) g`,
            );
            server.state.rejects = (event) => event.event === "tainted";
            // The first time the tainted event is refused alone, the next two requests get a
            // 503, then a 429 with Retry-After.
            let armed = false;
            server.state.onRefused = (batch) => {
              if (armed || batch.length !== 1) return;
              armed = true;
              server.state.answers.push({ status: 503 }, { status: 429, retryAfter: "1" });
            };
            const plugin = posthogPlugin(server.host);
            const requestsBefore = server.state.requests;
            const budgetMs = 5_000;
            const reports = [];
            try {
              for (let i = 0; i < 5; i++) {
                const report = await drain(db, [plugin], budgetMs, 50);
                assert.ok(report.elapsedMs <= budgetMs, `drain ${i} took ${report.elapsedMs} ms`);
                reports.push(report.plugins[0]);
                if (i === 0) {
                  const cursor = await cursorOf(db, "posthog");
                  assert.equal(cursor.failures, 1, "the 503 is recorded for health");
                  assert.match(cursor.last_error ?? "", /503/);
                }
              }
            } finally {
              server.state.rejects = () => false;
              server.state.onRefused = () => {};
              server.state.answers.length = 0;
            }
            // 1: four went through before the 503 and are kept; 2: the 429; 3: the tainted one
            // is dead-lettered after its third refusal, the four after it delivered.
            assert.deepEqual(
              reports.map((r) => [r.status, r.delivered]),
              [["delivered", 4], ["failed", 0], ["delivered", 4], ["idle", 0], ["idle", 0]],
              JSON.stringify(reports),
            );
            assert.match(reports[0].error ?? "", /503/);
            assert.equal(reports[0].lag, 5, "the cursor is past the four delivered");
            const sound = server.received.filter((e) => e.event === "sound");
            assert.equal(sound.length, 8, "each good event was delivered once");
            assert.equal(new Set(sound.map((e) => e.uuid)).size, 8);
            const letters = await db.query<{ attempts: number }>(
              `select d.attempts from beacon.plugin_dead_letters d
                 join public.events e on e.id = d.event_id
                where d.plugin = 'posthog' and e.event_type = 'tainted'`,
            );
            assert.deepEqual(letters.map((l) => l.attempts), [3]);
            // 7 requests in the first drain (the batch, halves down to the tainted one, the
            // 503), 1 in the second, 7 in the third.
            const requests = server.state.requests - requestsBefore;
            assert.ok(requests <= 15, `${requests} requests`);
            assert.equal((await cursorOf(db, "posthog")).failures, 0);
          },
        "the endpoint answers 401 without the secret and drains with it": async () => {
          await insertEvents(db, "via_endpoint", 3);
          const { app } = await createTestApp({
            db,
            config: {
              plugins: [posthogPlugin(server.host)],
              drain: { secret: SECRET },
            },
          });
          const call = (authorization?: string) =>
            app.request("/api/v1/plugins/drain", {
              method: "POST",
              headers: authorization ? { authorization } : {},
            });
          for (const authorization of [undefined, "Bearer nope", SECRET, `Basic ${SECRET}`]) {
            const res = await call(authorization);
            assert.equal(res.status, 401, String(authorization));
            assert.deepEqual(await res.json(), {
              error: "unauthorized",
              message: "send Authorization: Bearer <the drain secret>",
            });
          }
          const res = await call(`Bearer ${SECRET}`);
          assert.equal(res.status, 200);
          const body = await res.json();
          assert.equal(body.plugins[0].delivered, 3);
          assert.equal(typeof body.elapsed_ms, "number");
        },
        "the endpoint is off without a secret, and refused where the server's loop delivers":
          async () => {
            const off = await createTestApp({ db });
            const res = await off.app.request("/api/v1/plugins/drain", {
              method: "POST",
              headers: { authorization: `Bearer ${SECRET}` },
            });
            assert.equal(res.status, 404);
            assert.equal((await res.json()).error, "drain_disabled");
            const forwarder = createForwarder({
              db,
              plugins: [],
              config: { batchSize: 10, pollIntervalMs: 1000, minBackoffMs: 10, maxBackoffMs: 10 },
              log: silentLogger,
            });
            const looping = await createTestApp({
              db,
              forwarder,
              config: { drain: { secret: SECRET } },
            });
            const refused = await looping.app.request("/api/v1/plugins/drain", {
              method: "POST",
              headers: { authorization: `Bearer ${SECRET}` },
            });
            assert.equal(refused.status, 409);
            assert.equal((await refused.json()).error, "forwarder_running");
          },
        "Matomo refusing one event of a batch, then answering 503 or 429: no tight loop, Retry-After honoured, the events it took sent once":
          async () => {
            const stand = fakeMatomo();
            // Matomo starts where PostHog is (the events above are not its concern).
            await db.query(
              `insert into beacon.plugin_cursors (plugin, last_txid, last_seq)
               select 'matomo', last_txid, last_seq from beacon.plugin_cursors where plugin = 'posthog'`,
            );
            const insert = (from: number, poison: number, to: number) =>
              db.query(
                `insert into public.events (event_type, anonymous_id, payload)
                 select 'plan_chosen', 'visitor', jsonb_build_object('name',
                        case when g = $2 then 'poison-' || g else 'good-' || g end)
                   from generate_series($1::int, $3::int) g`,
                [from, poison, to],
              );
            // Matomo takes a batch but the poisoned event (named in invalid_indices), and is
            // unavailable from the next request on, until the test says otherwise.
            const poisonThen = (
              answer: { status: number; retryAfter?: string },
            ) => (stand.state.poisoned = (params) => {
              if (!params.e_n?.startsWith("poison")) return false;
              stand.state.unavailable ??= answer;
              return true;
            });
            const plugin = matomo({
              url: stand.url,
              siteId: stand.siteId,
              tokenAuth: stand.tokenAuth,
              siteUrl: "https://app.example.com",
              timeoutMs: 2000,
            });
            const budgetMs = 5_000;
            const run = async () => {
              const report = await drain(db, [plugin], budgetMs, 50);
              assert.ok(report.elapsedMs <= budgetMs, `the drain took ${report.elapsedMs} ms`);
              return { ...report.plugins[0], elapsedMs: report.elapsedMs };
            };
            try {
              await insert(1, 3, 6);
              poisonThen({ status: 503 });
              const down = await run();
              assert.deepEqual(
                [down.status, down.delivered, down.lag],
                ["delivered", 5, 0],
                "the events Matomo took are kept: " + JSON.stringify(down),
              );
              assert.match(down.error ?? "", /503/);
              // The batch, then the refused event alone: three 503s in a row and it stops.
              assert.equal(stand.state.bulkRequests, 4, "no tight loop");
              const cursor = await cursorOf(db, "matomo");
              assert.equal(cursor.failures, 1, "health shows the failure");
              assert.match(cursor.last_error ?? "", /503/);

              stand.state.unavailable = undefined;
              await insert(7, 8, 10);
              poisonThen({ status: 429, retryAfter: "1" });
              const busy = await run();
              assert.deepEqual([busy.status, busy.delivered, busy.lag], ["delivered", 3, 0]);
              assert.match(busy.error ?? "", /429/);
              assert.equal(stand.state.bulkRequests, 8, "the batch, then three 429s");
              assert.ok(busy.elapsedMs >= 2000, "waited the 1 s Retry-After twice");

              stand.state.unavailable = undefined;
              stand.state.poisoned = () => false;
              assert.equal((await run()).status, "idle");
              assert.equal(stand.state.bulkRequests, 8);
              const names = stand.tracked.map((t) => t.e_n);
              assert.deepEqual(
                names.toSorted(),
                ["good-1", "good-10", "good-2", "good-4", "good-5", "good-6", "good-7", "good-9"],
                "each good event tracked once",
              );
              const letters = await db.query<{ name: string; attempts: number; error: string }>(
                `select e.payload->>'name' as name, d.attempts, d.error
                   from beacon.plugin_dead_letters d join public.events e on e.id = d.event_id
                  where d.plugin = 'matomo' order by name`,
              );
              assert.deepEqual(letters.map((l) => [l.name, l.attempts]), [
                ["poison-3", 1],
                ["poison-8", 1],
              ]);
              assert.match(letters[0].error, /retries cut short: .*503/);
              assert.deepEqual(stand.violations, []);
            } finally {
              await stand.close();
            }
          },
      });
    } finally {
      await server.close();
      await db.close();
      await pg.stop();
    }
  },
});
