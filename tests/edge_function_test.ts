/**
 * Beacon as a Supabase Edge Function, in the edge runtime's sandbox (see
 * `support/edge_function.ts`: network, environment, reads of its own folder and /tmp,
 * writes to /tmp only, no subprocesses, no FFI), against PostgreSQL 15 migrated as
 * `supabase db push` leaves it, with requests under `/beacon/...` as Supabase's gateway
 * hands them over and Supabase Auth played by a local GoTrue stand-in.
 */
import assert from "node:assert/strict";
import { buildIslands } from "../hydration/build.ts";
import { missingPostgres15, skipWithoutPostgres15 } from "./support/postgres15.ts";
import { startMigratedPostgres15 } from "./support/database.ts";
import { runSteps, waitFor } from "./support/steps.ts";
import { FAKE_AUTH_USER_ID, fakeSupabaseAuth } from "./support/fake_supabase_auth.ts";
import { fakePostHog } from "./support/fake_services.ts";
import { runEdgeFunctionToExit, startEdgeFunction } from "./support/edge_function.ts";
import { createTestApp } from "./support/app.ts";

const PUBLIC = "/functions/v1/beacon";
const INGEST_KEY = "bk_edge_function_key_0123456789";
const SERVICE_ROLE_KEY = "service-role-key-for-the-drain-0123456789";

Deno.test("the edge function refuses the embedded database, with one line naming the setting", async () => {
  const { code, stderr } = await runEdgeFunctionToExit({
    SUPABASE_URL: "http://127.0.0.1:9",
    SUPABASE_ANON_KEY: "sb_publishable_test",
  });
  assert.notEqual(code, 0);
  assert.match(
    stderr,
    /Beacon cannot start: DATABASE_URL: the embedded database \(PGlite\) is server-only/,
  );
});

Deno.test("the edge function refuses local accounts: sign-in on the edge is Supabase Auth", async () => {
  const noAuth = await runEdgeFunctionToExit({ SUPABASE_DB_URL: "postgres://x@127.0.0.1:9/x" });
  assert.notEqual(noAuth.code, 0);
  assert.match(noAuth.stderr, /Beacon cannot start: SUPABASE_URL: local accounts are server-only/);
  const admin = await runEdgeFunctionToExit({
    SUPABASE_DB_URL: "postgres://x@127.0.0.1:9/x",
    SUPABASE_URL: "http://127.0.0.1:9",
    BEACON_ADMIN_EMAIL: "admin@example.com",
    BEACON_ADMIN_PASSWORD: "long-enough-password",
  });
  assert.notEqual(admin.code, 0);
  assert.match(admin.stderr, /Beacon cannot start: BEACON_ADMIN_EMAIL: .*server-only/);
});

/** Every absolute address in a page: links, form actions, sources, script imports. */
function addressesIn(html: string): string[] {
  const attributes = [...html.matchAll(/\s(?:href|action|src|formaction)="([^"]*)"/g)]
    .map((m) => m[1]);
  const imports = [...html.matchAll(/from\s*"([^"]+)"/g)].map((m) => m[1]);
  return [...attributes, ...imports].filter((a) => a.startsWith("/"));
}

/**
 * Every route of the server's app that is a page (not `/api/...`, not `/_islands/...`), as
 * `METHOD /path` with any parameter or wildcard filled in: the list grows with the app.
 */
async function pageRoutes(): Promise<string[]> {
  const { app, close } = await createTestApp();
  try {
    const routes = app.routes
      .filter((r) => ["GET", "POST"].includes(r.method))
      .map((r) => `${r.method} ${r.path.replace(/\*$/, "x").replace(/:[^/]+/g, "x")}`)
      .filter((r) => !/ \/(api|_islands)\//.test(r));
    return [...new Set(routes)];
  } finally {
    await close();
  }
}

/** What the gateway does with a browser's path: `/functions/v1/beacon/x` → `/beacon/x`. */
function viaGateway(origin: string, path: string): string {
  assert.ok(path.startsWith(`${PUBLIC}/`), `${path} is under ${PUBLIC}/`);
  return `${origin}${path.slice("/functions/v1".length)}`;
}

const missing = await missingPostgres15();
Deno.test({
  name: "the edge function on PostgreSQL 15, under /beacon, with pages off and on",
  ignore: skipWithoutPostgres15(missing),
  async fn(t) {
    assert.deepEqual(missing, []);
    const { pg, db } = await startMigratedPostgres15();
    const auth = await fakeSupabaseAuth();
    const posthog = fakePostHog();
    const islandsDir = await Deno.makeTempDir({ prefix: "beacon-edge-islands-" });
    const env = {
      SUPABASE_DB_URL: pg.url,
      SUPABASE_URL: auth.url,
      SUPABASE_ANON_KEY: "sb_publishable_test",
      SUPABASE_SERVICE_ROLE_KEY: SERVICE_ROLE_KEY,
      BEACON_INGEST_KEY: INGEST_KEY,
      BEACON_ISLANDS_DIR: islandsDir,
      POSTHOG_API_KEY: "phc_edge",
      POSTHOG_HOST: posthog.host,
    };
    try {
      await buildIslands({ outDir: islandsDir });
      await db.query(
        "insert into auth.users (id, email, created_at) values ($1, 'sam@supabase.test', now())",
        [FAKE_AUTH_USER_ID],
      );
      await db.query("update public.profiles set is_superuser = true where id = $1", [
        FAKE_AUTH_USER_ID,
      ]);
      const fn = await startEdgeFunction(env);
      try {
        await runSteps(t, {
          "ingestion under /beacon stores the events": async () => {
            const res = await fetch(`${fn.url}/api/v1/events`, {
              method: "POST",
              headers: { "content-type": "application/json", apikey: INGEST_KEY },
              body: JSON.stringify({
                batch: [
                  { event: "edge_event", anonymous_id: "device-1" },
                  { event: "edge_event", anonymous_id: "device-2" },
                  { event: "" },
                ],
              }),
            });
            assert.equal(res.status, 200);
            const body = await res.json();
            assert.equal(body.accepted, 2);
            assert.equal(body.rejected.length, 1);
            const [{ n }] = await db.query<{ n: number }>(
              "select count(*)::int as n from public.events where event_type = 'edge_event'",
            );
            assert.equal(n, 2);
          },
          "the JSON API answers under /beacon, as the signed-in user": async () => {
            const health = await fetch(`${fn.url}/api/v1/health`);
            assert.equal(health.status, 200);
            assert.equal((await health.json()).database.reachable, true);
            const anonymous = await fetch(`${fn.url}/api/v1/analytics/summary`);
            assert.equal(anonymous.status, 401);
            await anonymous.body?.cancel();
            const signIn = await fetch(`${auth.url}/auth/v1/token?grant_type=password`, {
              method: "POST",
              body: JSON.stringify({ email: "sam@supabase.test", password: "right-password" }),
            });
            const { access_token } = await signIn.json();
            const summary = await fetch(`${fn.url}/api/v1/analytics/summary`, {
              headers: { authorization: `Bearer ${access_token}` },
            });
            assert.equal(summary.status, 200);
            const { current } = await summary.json();
            assert.ok(current, "the superuser reads the summary (RLS let them)");
          },
          "paths outside /beacon are not Beacon's": async () => {
            const res = await fetch(`${fn.origin}/api/v1/health`);
            assert.equal(res.status, 404);
            assert.equal((await res.json()).error, "not_found");
          },
          "on the default domain every page route answers a plain-text pointer, never HTML":
            async () => {
              const routes = await pageRoutes();
              assert.ok(routes.length >= 10, `the server's page routes: ${routes.join(", ")}`);
              for (const route of [...routes, "GET /nope"]) {
                const [method, path] = route.split(" ");
                const res = await fetch(`${fn.url}${path}`, { method, redirect: "manual" });
                assert.equal(res.status, method === "GET" ? 200 : 404, route);
                assert.match(res.headers.get("content-type") ?? "", /^text\/plain/, route);
                const text = await res.text();
                assert.doesNotMatch(text, /<html|<!DOCTYPE/i, route);
                assert.match(text, /custom domain/, route);
                assert.match(text, /POST \/functions\/v1\/beacon\/api\/v1\/events/, route);
              }
            },
          "the drain endpoint refuses calls without the service role key": async () => {
            for (const authorization of [undefined, "Bearer wrong-key", SERVICE_ROLE_KEY]) {
              const res = await fetch(`${fn.url}/api/v1/plugins/drain`, {
                method: "POST",
                headers: authorization ? { authorization } : {},
              });
              assert.equal(res.status, 401, String(authorization));
              assert.equal((await res.json()).error, "unauthorized");
            }
          },
          "the drain endpoint delivers the stored events to PostHog": async () => {
            // Drains hand over only events older than every running transaction (the
            // delivery order), and other suites share this cluster: "idle" until then.
            let body: { plugins: Array<{ name: string; status: string; lag: number }> } = {
              plugins: [],
            };
            await waitFor("a drain to deliver", async () => {
              const res = await fetch(`${fn.url}/api/v1/plugins/drain`, {
                method: "POST",
                headers: { authorization: `Bearer ${SERVICE_ROLE_KEY}` },
              });
              assert.equal(res.status, 200);
              body = await res.json();
              assert.equal(body.plugins[0].name, "posthog");
              assert.ok(["idle", "delivered"].includes(body.plugins[0].status));
              return body.plugins[0].status === "delivered";
            }, { timeoutMs: 60_000, intervalMs: 250 });
            assert.equal(body.plugins[0].lag, 0);
            assert.ok(
              posthog.received.filter((e) => e.event === "edge_event").length === 2,
              "both events reached PostHog",
            );
          },
          "on Supabase's defaults the client is cf-connecting-ip: a forged X-Forwarded-For escapes no lockout":
            async () => {
              const send = (key: string, cf: string, xff: string) =>
                fetch(`${fn.url}/api/v1/events`, {
                  method: "POST",
                  headers: {
                    "content-type": "application/json",
                    apikey: key,
                    "cf-connecting-ip": cf,
                    "x-forwarded-for": xff,
                  },
                  body: JSON.stringify({ event: "edge_lockout", anonymous_id: "device-9" }),
                });
              for (let i = 0; i < 20; i++) {
                const wrong = await send(
                  "bk_wrong_key_0123456789abcdef",
                  "203.0.113.77",
                  `198.51.100.${i}`,
                );
                assert.equal(wrong.status, 401);
                await wrong.body?.cancel();
              }
              const locked = await send(INGEST_KEY, "203.0.113.77", "198.51.100.200");
              assert.equal(locked.status, 429, "a new X-Forwarded-For is the same client");
              await locked.body?.cancel();
              const other = await send(INGEST_KEY, "203.0.113.78", "198.51.100.1");
              assert.equal(other.status, 200, "another client is not locked out");
              await other.body?.cancel();
            },
        });
      } finally {
        await fn.stop();
      }

      const pages = await startEdgeFunction({ ...env, BEACON_SERVE_PAGES: "true" });
      try {
        await runSteps(t, {
          "with a custom domain the dashboard signs in and serves pages under the public path":
            async () => {
              const unsigned = await fetch(`${pages.url}/analytics?range=7`, {
                redirect: "manual",
              });
              assert.equal(unsigned.status, 302);
              await unsigned.body?.cancel();
              assert.equal(
                unsigned.headers.get("location"),
                `${PUBLIC}/login?next=${encodeURIComponent("/analytics?range=7")}`,
              );

              const form = await fetch(`${pages.url}/login`);
              assert.equal(form.status, 200);
              assert.match(form.headers.get("content-type") ?? "", /^text\/html/);
              const csrfCookie = form.headers.getSetCookie()[0];
              assert.match(csrfCookie, new RegExp(`; Path=${PUBLIC};`), "cookie path");
              const html = await form.text();
              assert.match(html, new RegExp(`<form method="post" action="${PUBLIC}/login"`));
              const csrf = /name="csrf" value="([^"]+)"/.exec(html)![1];

              const signIn = await fetch(`${pages.url}/login`, {
                method: "POST",
                redirect: "manual",
                headers: {
                  "content-type": "application/x-www-form-urlencoded",
                  cookie: csrfCookie.split(";")[0],
                  origin: pages.origin,
                },
                body: new URLSearchParams({
                  csrf,
                  email: "sam@supabase.test",
                  password: "right-password",
                  next: "/analytics",
                }),
              });
              assert.equal(signIn.status, 303);
              await signIn.body?.cancel();
              assert.equal(signIn.headers.get("location"), `${PUBLIC}/analytics`);
              const session = signIn.headers.getSetCookie()
                .find((c) => c.startsWith("beacon_session="))!;
              assert.match(session, new RegExp(`; Path=${PUBLIC};`), "session cookie path");
              const cookie = session.split(";")[0];

              const page = await fetch(viaGateway(pages.origin, `${PUBLIC}/analytics`), {
                headers: { cookie },
              });
              assert.equal(page.status, 200);
              assert.match(page.headers.get("content-security-policy") ?? "", /default-src 'self'/);
              const dashboard = await page.text();
              assert.match(dashboard, /sam@supabase\.test/);
              const addresses = addressesIn(dashboard);
              assert.ok(addresses.length > 10, "the page has links");
              for (const address of addresses) {
                assert.ok(address.startsWith(`${PUBLIC}/`), `${address} is under ${PUBLIC}/`);
              }
              const bundles = addresses.filter((a) => a.includes("/_islands/"));
              assert.ok(bundles.length >= 2, "the runtime and the chart island are imported");
              for (const bundle of bundles) {
                const js = await fetch(viaGateway(pages.origin, bundle));
                assert.equal(js.status, 200, bundle);
                assert.match(js.headers.get("content-type") ?? "", /javascript/);
                await js.body?.cancel();
              }
              for (const path of ["/analytics/events", "/analytics/funnels", "/analytics/trends"]) {
                const res = await fetch(`${pages.url}${path}`, { headers: { cookie } });
                assert.equal(res.status, 200, path);
                for (const address of addressesIn(await res.text())) {
                  assert.ok(address.startsWith(`${PUBLIC}/`), `${path}: ${address}`);
                }
              }

              const signOutForm =
                /<form method="post" action="([^"]+)"[^>]*>\s*<input type="hidden" name="csrf" value="([^"]+)"/
                  .exec(dashboard);
              assert.ok(signOutForm, "the sign-out form is on the page");
              assert.equal(signOutForm[1], `${PUBLIC}/logout`);
              const signOut = await fetch(viaGateway(pages.origin, signOutForm[1]), {
                method: "POST",
                redirect: "manual",
                headers: {
                  "content-type": "application/x-www-form-urlencoded",
                  cookie,
                  origin: pages.origin,
                },
                body: new URLSearchParams({ csrf: signOutForm[2] }),
              });
              assert.equal(signOut.status, 303);
              await signOut.body?.cancel();
              assert.equal(signOut.headers.get("location"), `${PUBLIC}/login`);
            },
        });
      } finally {
        await pages.stop();
      }
    } finally {
      await posthog.close();
      await auth.close();
      await Deno.remove(islandsDir, { recursive: true });
      await db.close();
      await pg.stop();
    }
  },
});
