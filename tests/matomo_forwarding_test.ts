/**
 * The Matomo plugin inside a whole Beacon: events sent over HTTP reach a local stand-in of
 * Matomo's bulk tracking API through the forwarder, across a 500 outage, refused connections
 * and a restart; health shows the lag and the last error meanwhile; afterwards every event has
 * been tracked exactly once, with its original (three-day-old) time.
 */
import assert from "node:assert/strict";
import { startBeacon } from "../app/start.ts";
import { type DatabaseConfig, defineConfig } from "../config/mod.ts";
import { silentLogger } from "../log/mod.ts";
import { matomo } from "../plugins/matomo.ts";
import { matomoVisitorId } from "../plugins/matomo_request.ts";
import { missingPostgres15, skipWithoutPostgres15 } from "./support/postgres15.ts";
import { startMigratedPostgres15 } from "./support/database.ts";
import { fakeMatomo } from "./support/fake_matomo.ts";
import { waitFor as waitUntil } from "./support/steps.ts";

const INGEST_KEY = "bk_matomo_test_key_0123456789";
const THREE_DAYS_AGO = Date.now() - 3 * 86_400_000;

/** A whole Beacon on a busy machine: up to 15 s. */
const waitFor = (what: string, check: () => boolean | Promise<boolean>) =>
  waitUntil(what, check, { timeoutMs: 15_000, intervalMs: 50 });

function start(database: DatabaseConfig, stand: ReturnType<typeof fakeMatomo>) {
  return startBeacon(
    defineConfig({
      port: 0,
      hostname: "127.0.0.1",
      database,
      seedDemoData: false,
      ingestKey: INGEST_KEY,
      plugins: [
        matomo({
          url: stand.url,
          siteId: stand.siteId,
          tokenAuth: stand.tokenAuth,
          siteUrl: "https://app.example.com",
          timeoutMs: 2000,
        }),
      ],
      forwarder: { batchSize: 40, pollIntervalMs: 50, minBackoffMs: 20, maxBackoffMs: 200 },
    }),
    { log: silentLogger, banner: () => {} },
  );
}

/** Sends page views and events, each made unique by its path or name (Matomo has no event id). */
async function send(url: string, n: number, label: string): Promise<string[]> {
  const keys: string[] = [];
  const batch = Array.from({ length: n }, (_, i) => {
    const key = `${label}-${i}`;
    keys.push(key);
    return {
      event: i % 2 ? "page_view" : "plan_chosen",
      anonymous_id: `visitor-${i % 7}`,
      uuid: crypto.randomUUID(),
      timestamp: new Date(THREE_DAYS_AGO + i * 1000).toISOString(),
      properties: i % 2 ? { path: `/p/${key}` } : { name: key, value: i },
    };
  });
  const res = await fetch(`${url}/api/v1/events`, {
    method: "POST",
    headers: { "content-type": "application/json", apikey: INGEST_KEY },
    body: JSON.stringify({ batch }),
  });
  assert.equal(res.status, 200);
  assert.deepEqual(await res.json(), { accepted: n, duplicates: 0, rejected: [] });
  return keys;
}

async function matomoHealth(url: string) {
  const body = await (await fetch(`${url}/api/v1/health`)).json();
  return {
    status: body.status as string,
    plugin: body.plugins.find((p: { name: string }) => p.name === "matomo") as {
      lag: number;
      failures: number;
      last_error: string | null;
    },
  };
}

async function outageAndRecovery(database: DatabaseConfig) {
  const stand = fakeMatomo();
  let beacon = await start(database, stand);
  /** What Matomo tracked of the events sent here, by the key each carries. */
  const trackedKeys = () =>
    stand.tracked.flatMap((t) =>
      t.e_a === "plan_chosen"
        ? [t.e_n]
        : t.url
        ? [t.url.replace("https://app.example.com/p/", "")]
        : []
    );
  try {
    const first = await send(beacon.url, 30, "first");
    await waitFor("the first events in Matomo", () => trackedKeys().length >= 30);

    stand.state.failing = true;
    const during = await send(beacon.url, 50, "during");
    await waitFor("health to show the 500 and the lag", async () => {
      const h = await matomoHealth(beacon.url);
      return h.status === "degraded" && h.plugin.lag === 50 &&
        /Matomo answered 500/.test(h.plugin.last_error ?? "");
    });

    stand.state.failing = false;
    await stand.refuse();
    await waitFor("health to show Matomo unreachable", async () => {
      const h = await matomoHealth(beacon.url);
      return h.plugin.lag === 50 && /could not be reached/.test(h.plugin.last_error ?? "");
    });

    // Beacon restarts while Matomo still refuses connections: the cursor is kept.
    await beacon.shutdown();
    beacon = await start(database, stand);
    const after = await send(beacon.url, 20, "after");
    stand.accept();
    const all = [...first, ...during, ...after];
    await waitFor("Matomo to track every event", () => trackedKeys().length >= all.length);
    await waitFor("health to show no lag", async () => {
      const h = await matomoHealth(beacon.url);
      return h.status === "ok" && h.plugin.lag === 0 && h.plugin.failures === 0;
    });
    assert.deepEqual(stand.violations, []);
    assert.deepEqual(trackedKeys(), all, "every event once, in order: nothing lost, nothing twice");
    assert.equal(stand.state.invalid, 0);

    const pageView = stand.tracked.find((t) => t.url === "https://app.example.com/p/first-1");
    assert.deepEqual(pageView, {
      idsite: String(stand.siteId),
      rec: "1",
      apiv: "1",
      _id: await matomoVisitorId("visitor-1"),
      cid: await matomoVisitorId("visitor-1"),
      cdt: String(Math.floor((THREE_DAYS_AGO + 1000) / 1000)),
      url: "https://app.example.com/p/first-1",
      action_name: "/p/first-1",
    });
    // The first superuser's sign-up (recorded by the database) is a user's event: uid, no cid.
    const [admin] = await beacon.db.query<{ id: string }>(
      "select id::text from auth.users where email = 'admin@localhost'",
    );
    const signup = stand.tracked.find((t) => t.e_a === "user_signup");
    assert.equal(signup?.uid, admin.id);
    assert.equal(signup?._id, await matomoVisitorId(admin.id));
    assert.equal(signup?.cid, undefined);
    assert.equal(signup?.e_c, "user");
    const event = stand.tracked.find((t) => t.e_n === "during-2");
    assert.deepEqual(
      [event?.e_c, event?.e_a, event?.e_v, event?.cdt],
      ["plan", "plan_chosen", "2", String(Math.floor((THREE_DAYS_AGO + 2000) / 1000))],
    );
  } finally {
    await beacon.shutdown();
    await stand.close();
  }
}

Deno.test("Matomo on the embedded database: an outage, refused connections and a restart lose nothing and repeat nothing", async () => {
  const dir = await Deno.makeTempDir({ prefix: "beacon-matomo-" });
  try {
    await outageAndRecovery({ kind: "embedded", dataDir: dir });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

const missing = await missingPostgres15();
Deno.test({
  name:
    "Matomo on PostgreSQL 15: an outage, refused connections and a restart lose nothing and repeat nothing",
  ignore: skipWithoutPostgres15(missing),
  async fn() {
    assert.deepEqual(missing, []);
    const { pg, db } = await startMigratedPostgres15();
    await db.close();
    try {
      await outageAndRecovery({ kind: "postgres", url: pg.url });
    } finally {
      await pg.stop();
    }
  },
});
