/**
 * Beacon's Deno Deploy entry (`deploy.ts`) in Deploy's sandbox (`denoDeployEntry`: network,
 * environment, reads of the project, no writes at all, no subprocesses, no FFI), on
 * PostgreSQL 15 migrated as `supabase db push` leaves it, with Supabase Auth played by the
 * GoTrue stand-in: it starts, serves ingestion and the pages at the root, and `Deno.cron`
 * missing (a local run without `--unstable-cron`) does not stop it.
 */
import assert from "node:assert/strict";
import { skipWithoutPostgres15 } from "./support/postgres15.ts";
import { missingPostgres15 } from "./support/postgres15.ts";
import { startMigratedPostgres15 } from "./support/database.ts";
import { fakeSupabaseAuth } from "./support/fake_supabase_auth.ts";
import { denoDeployEntry, startEdgeFunction } from "./support/edge_function.ts";

const INGEST_KEY = "bk_deno_deploy_key_0123456789";
const missing = await missingPostgres15();

for (const cron of [false, true]) {
  Deno.test({
    name:
      `deploy.ts starts on DATABASE_URL without a disk and serves pages and ingestion (Deno.cron ${
        cron ? "present" : "missing"
      })`,
    ignore: skipWithoutPostgres15(missing),
    async fn() {
      const { pg, db } = await startMigratedPostgres15();
      const auth = await fakeSupabaseAuth();
      try {
        const deploy = await startEdgeFunction({
          DATABASE_URL: pg.url,
          SUPABASE_URL: auth.url,
          SUPABASE_ANON_KEY: "sb_publishable_deploy",
          BEACON_INGEST_KEY: INGEST_KEY,
        }, denoDeployEntry(cron));
        try {
          const health = await fetch(`${deploy.origin}/api/v1/health`);
          assert.equal(health.status, 200, deploy.output());
          assert.equal((await health.json()).database.reachable, true);

          const res = await fetch(`${deploy.origin}/api/v1/events`, {
            method: "POST",
            headers: { "content-type": "application/json", apikey: INGEST_KEY },
            body: JSON.stringify({ event: "deploy_event", anonymous_id: "device-d" }),
          });
          assert.equal(res.status, 200, deploy.output());
          assert.equal((await res.json()).accepted, 1);
          const [{ n }] = await db.query<{ n: number }>(
            "select count(*)::int as n from public.events where event_type = 'deploy_event'",
          );
          assert.equal(n, 1);

          const login = await fetch(`${deploy.origin}/login`);
          assert.equal(login.status, 200);
          assert.match(login.headers.get("content-type") ?? "", /^text\/html/);
          assert.match(await login.text(), /<form method="post" action="\/login"/);
          const unsigned = await fetch(`${deploy.origin}/analytics`, { redirect: "manual" });
          assert.equal(unsigned.status, 302);
          await unsigned.body?.cancel();
          assert.match(unsigned.headers.get("location") ?? "", /^\/login\?next=/);
          assert.doesNotMatch(deploy.output(), /PermissionDenied|NotCapable|Error/);
        } finally {
          await deploy.stop();
        }
      } finally {
        await auth.close();
        await db.close();
        await pg.stop();
      }
    },
  });
}
