/**
 * Dead letters seen and replayed through Beacon's HTTP surface: health and the dashboard
 * show the dead-lettered count per plugin; a superuser replays them with
 * `POST /api/v1/plugins/:name/replay` or the dashboard's button; others cannot. On PGlite
 * and on PostgreSQL 15 (the dashboard reads the dead letters as the signed-in superuser).
 */
import assert from "node:assert/strict";
import { createForwarder } from "../plugins/forwarder.ts";
import { webhook } from "../plugins/webhook.ts";
import type { Database } from "../database/mod.ts";
import { silentLogger } from "../log/mod.ts";
import { missingPostgres15, skipWithoutPostgres15 } from "./support/postgres15.ts";
import { openMigratedPglite, startMigratedPostgres15 } from "./support/database.ts";
import { fakeWebhookReceiver } from "./support/fake_services.ts";
import { createTestApp, createUser } from "./support/app.ts";
import { waitFor } from "./support/steps.ts";

async function seesAndReplays(db: Database) {
  const hook = fakeWebhookReceiver();
  hook.state.rejects = (e) => (e.properties as Record<string, unknown>)?.name === "poison";
  const plugin = webhook({ url: hook.url, secret: "s3cret-s3cret-s3cret", name: "hook" });
  const forwarder = createForwarder({
    db,
    plugins: [plugin],
    config: {
      batchSize: 20,
      pollIntervalMs: 20,
      minBackoffMs: 5,
      maxBackoffMs: 20,
      permanentAttempts: 2,
    },
    log: silentLogger,
  });
  const t = await createTestApp({ db, forwarder, config: { plugins: [plugin] } });
  const admin = `Bearer ${await t.token(
    await createUser(db, `admin-${crypto.randomUUID()}@replay.test`, true),
  )}`;
  const ann = `Bearer ${await t.token(
    await createUser(db, `ann-${crypto.randomUUID()}@replay.test`),
  )}`;
  const [{ id: poisonId }] = await db.query<{ id: string }>(
    `insert into public.events (event_type, anonymous_id, payload)
     values ('a', 'v', '{"name": "good"}'), ('b', 'v', '{"name": "poison"}'), ('c', 'v', '{"name": "good"}')
     returning id::text as id`,
  ).then((rows) => rows.slice(1, 2));
  await forwarder.start();
  try {
    await waitFor("the poisoned event dead-lettered, the rest delivered", async () => {
      const [status] = await forwarder.status();
      return status.deadLettered === 1 && status.lag === 0;
    });

    const health = await (await t.app.request("/api/v1/health")).json();
    assert.deepEqual(
      health.plugins.map((p: Record<string, unknown>) => [p.name, p.dead_lettered, p.lag]),
      [
        ["hook", 1, 0],
      ],
      "health shows the dead-lettered count and no lag",
    );

    const page = await t.app.request("/analytics", { headers: { authorization: admin } });
    assert.equal(page.status, 200);
    const html = await page.text();
    assert.match(
      html,
      /<tr data-plugin="hook"><td>hook<\/td><td class="num" data-dead-lettered="1">1<\/td>/,
    );

    const replay = (authorization: string, name = "hook", type = "application/json") =>
      t.app.request(`/api/v1/plugins/${name}/replay`, {
        method: "POST",
        headers: { authorization, "content-type": type },
        body: "{}",
      });
    assert.equal((await replay(ann)).status, 403, "an ordinary user cannot replay");
    assert.equal(
      (await t.app.request("/api/v1/plugins/hook/replay", { method: "POST" })).status,
      401,
    );
    const unknown = await replay(admin, "nobody");
    assert.equal(unknown.status, 404);
    assert.equal((await unknown.json()).error, "unknown_plugin");
    assert.equal((await replay(admin, "hook", "application/x-www-form-urlencoded")).status, 415);
    const still = await replay(admin);
    assert.deepEqual(await still.json(), {
      plugin: "hook",
      replayed: 0,
      failed: 1,
      last_error: "webhook answered 422 Unprocessable Entity",
    }, "while the destination still refuses it, the dead letter stays");

    hook.state.rejects = () => false;
    // The dashboard's button: a form with the page's CSRF token.
    const cookie = page.headers.get("set-cookie")?.split(";")[0] ?? "";
    const csrf =
      /<form method="post" action="\/analytics\/plugins\/hook\/replay"><input type="hidden" name="csrf" value="([^"]+)"/
        .exec(html)?.[1];
    assert.ok(csrf, "the dashboard offers a replay button");
    const forged = await t.app.request("/analytics/plugins/hook/replay", {
      method: "POST",
      headers: {
        authorization: admin,
        cookie,
        "content-type": "application/x-www-form-urlencoded",
      },
      body: "csrf=forged",
    });
    assert.equal(forged.status, 403, "a form without the page's token is refused");
    assert.equal(hook.received.filter((e) => e.id === poisonId).length, 0);
    const pressed = await t.app.request("/analytics/plugins/hook/replay", {
      method: "POST",
      headers: {
        authorization: admin,
        cookie,
        "content-type": "application/x-www-form-urlencoded",
      },
      body: `csrf=${encodeURIComponent(csrf)}`,
    });
    assert.equal(pressed.status, 303);
    assert.deepEqual(
      hook.received.filter((e) => e.id === poisonId).length,
      1,
      "replay delivered it once",
    );
    const after = await (await t.app.request("/api/v1/health")).json();
    assert.equal(after.plugins[0].dead_lettered, 0);
    const again = await t.app.request("/analytics", { headers: { authorization: admin } });
    assert.match(await again.text(), /data-dead-lettered="0"/);
  } finally {
    await forwarder.stop();
    await hook.close();
    await t.close();
  }
}

Deno.test("dead letters on PGlite: health and the dashboard count them, a superuser replays them", async () => {
  const db = await openMigratedPglite();
  try {
    await seesAndReplays(db);
  } finally {
    await db.close();
  }
});

const missing = await missingPostgres15();
Deno.test({
  name:
    "dead letters on PostgreSQL 15: health and the dashboard count them, a superuser replays them",
  ignore: skipWithoutPostgres15(missing),
  async fn() {
    assert.deepEqual(missing, []);
    const { pg, db } = await startMigratedPostgres15();
    try {
      await seesAndReplays(db);
    } finally {
      await db.close();
      await pg.stop();
    }
  },
});
