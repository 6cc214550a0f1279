/**
 * A whole Beacon, started as `main.ts` starts it: events sent over HTTP and inserted
 * straight into the table (as supabase-js would) reach PostHog and a webhook through the
 * real plugins, across an outage and a restart; health tells the lag; shutdown is clean.
 */
import assert from "node:assert/strict";
import { startBeacon } from "../app/start.ts";
import { type DatabaseConfig, defineConfig } from "../config/mod.ts";
import { silentLogger } from "../log/mod.ts";
import { posthog } from "../plugins/posthog.ts";
import { webhook } from "../plugins/webhook.ts";
import type { Database } from "../database/mod.ts";
import { missingPostgres15, skipWithoutPostgres15 } from "./support/postgres15.ts";
import { startMigratedPostgres15 } from "./support/database.ts";
import { fakePostHog, fakeWebhookReceiver } from "./support/fake_services.ts";
import { waitFor as waitUntil } from "./support/steps.ts";

const INGEST_KEY = "bk_server_test_key_0123456789";

/** A whole Beacon on a busy machine: up to 15 s. */
const waitFor = (what: string, check: () => boolean | Promise<boolean>) =>
  waitUntil(what, check, { timeoutMs: 15_000, intervalMs: 50 });

function start(
  database: DatabaseConfig,
  services: { posthogHost: string; webhookUrl: string },
  banner: string[] = [],
) {
  return startBeacon(
    defineConfig({
      port: 0,
      hostname: "127.0.0.1",
      database,
      seedDemoData: false,
      ingestKey: INGEST_KEY,
      nightly: "always",
      plugins: [
        posthog({
          apiKey: "phc_test",
          host: services.posthogHost,
          fetchRetryCount: 1,
          fetchRetryDelay: 10,
        }),
        webhook({ url: services.webhookUrl, secret: "webhook-secret-0123456789" }),
      ],
      forwarder: { batchSize: 100, pollIntervalMs: 50, minBackoffMs: 20, maxBackoffMs: 200 },
    }),
    { log: silentLogger, banner: (line) => banner.push(line) },
  );
}

async function sendBatch(url: string, n: number, label: string): Promise<string[]> {
  const batch = Array.from({ length: n }, (_, i) => ({
    event: label,
    anonymous_id: `visitor-${i % 7}`,
    uuid: crypto.randomUUID(),
    properties: { i },
  }));
  const res = await fetch(`${url}/api/v1/events`, {
    method: "POST",
    headers: { "content-type": "application/json", apikey: INGEST_KEY },
    body: JSON.stringify({ batch }),
  });
  assert.equal(res.status, 200);
  assert.deepEqual(await res.json(), { accepted: n, duplicates: 0, rejected: [] });
  return batch.map((e) => e.uuid);
}

/** Inserts as PostgREST would for supabase-js with the anon key: role anon, RLS on. */
async function insertLikeSupabaseJs(db: Database, n: number): Promise<string[]> {
  const ids = Array.from({ length: n }, () => crypto.randomUUID());
  await db.transaction(async (tx) => {
    await tx.query(
      "select set_config('role', 'anon', true), set_config('request.jwt.claims', $1, true)",
      [
        JSON.stringify({ role: "anon" }),
      ],
    );
    await tx.query(
      `insert into public.events (id, event_type, anonymous_id)
       select id, 'from_supabase_js', 'browser' from unnest($1::uuid[]) as id`,
      [ids],
    );
  });
  return ids;
}

async function health(url: string) {
  const res = await fetch(`${url}/api/v1/health`);
  return { status: res.status, body: await res.json() };
}

async function endToEnd(database: DatabaseConfig) {
  const ph = fakePostHog();
  const hook = fakeWebhookReceiver();
  const services = { posthogHost: ph.host, webhookUrl: hook.url };
  const banner: string[] = [];
  let beacon = await start(database, services, banner);
  try {
    // A brand-new database without demo data gets a superuser, printed once.
    const created = banner.join("\n").match(/sign in as admin@localhost with password (\S+)/);
    assert.ok(created, banner.join("\n"));
    const [admin] = await beacon.db.query<{ is_superuser: boolean }>(
      "select is_superuser from beacon.authenticate('admin@localhost', $1)",
      [created[1]],
    );
    assert.equal(admin?.is_superuser, true);

    const first = await health(beacon.url);
    assert.equal(first.status, 200);
    assert.equal(first.body.status, "ok");
    assert.equal(first.body.database.reachable, true);
    assert.match(first.body.migrations.version, /^\d{14}$/);
    await waitFor(
      "the nightly job's first run, at start",
      async () => (await health(beacon.url)).body.nightly !== null,
    );

    // PostHog is down for a while; the webhook works.
    ph.state.failing = true;
    const sent = [
      ...await sendBatch(beacon.url, 250, "http_event"),
      ...await insertLikeSupabaseJs(beacon.db, 40),
    ];
    await waitFor("the webhook to get every event", () => sent.every((id) => hook.ids().has(id)));
    await waitFor("PostHog's failures to show in health", async () => {
      const h = await health(beacon.url);
      const p = h.body.plugins.find((x: { name: string }) => x.name === "posthog");
      return h.body.status === "degraded" && p.lag === 290 &&
        /500|unavailable|failed/i.test(p.last_error ?? "");
    });

    // Beacon restarts while PostHog is still down: nothing is lost.
    await beacon.shutdown();
    const second: string[] = [];
    beacon = await start(database, services, second);
    assert.doesNotMatch(
      second.join("\n"),
      /superuser created/,
      "the first superuser is created once",
    );
    const more = await sendBatch(beacon.url, 60, "after_restart");
    ph.state.failing = false;
    const all = [...sent, ...more];
    await waitFor("PostHog to get every event", () => all.every((id) => ph.uuids().has(id)));
    await waitFor("the webhook to get the rest", () => more.every((id) => hook.ids().has(id)));
    await waitFor("health to show no lag", async () => {
      const h = await health(beacon.url);
      return h.body.status === "ok" && h.body.plugins.every((p: { lag: number }) => p.lag === 0);
    });
    const fromSupabaseJs = ph.received.find((e) => e.event === "from_supabase_js") as Record<
      string,
      unknown
    >;
    assert.equal(fromSupabaseJs.distinct_id, "browser");
  } finally {
    await beacon.shutdown();
    await ph.close();
    await hook.close();
  }
  const refused = await fetch(`${beacon.url}/api/v1/health`).then(() => false, () => true);
  assert.ok(refused, "after shutdown the port no longer answers");
}

Deno.test("Beacon on the embedded database: ingestion to plugins across an outage and a restart", async () => {
  const dir = await Deno.makeTempDir({ prefix: "beacon-server-" });
  try {
    await endToEnd({ kind: "embedded", dataDir: dir });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

const missing = await missingPostgres15();
Deno.test({
  name:
    "Beacon on PostgreSQL 15 (DATABASE_URL): ingestion to plugins across an outage and a restart",
  ignore: skipWithoutPostgres15(missing),
  async fn() {
    assert.deepEqual(missing, []);
    const { pg, db } = await startMigratedPostgres15();
    await db.close();
    try {
      await endToEnd({ kind: "postgres", url: pg.url });
    } finally {
      await pg.stop();
    }
  },
});
