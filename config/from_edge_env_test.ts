import assert from "node:assert/strict";
import { configFromEdgeEnv } from "./from_edge_env.ts";
import { defineConfig } from "./mod.ts";

const SUPABASE_ENV = {
  SUPABASE_URL: "https://abc.supabase.co",
  SUPABASE_DB_URL: "postgresql://postgres:pw@db.abc.supabase.co:5432/postgres",
  SUPABASE_ANON_KEY: "anon-legacy",
  SUPABASE_SERVICE_ROLE_KEY: "service-role-legacy",
};

Deno.test("on Supabase: the function's database, keys, base path and pages off by default", () => {
  const config = defineConfig(configFromEdgeEnv(SUPABASE_ENV, "supabase"));
  assert.deepEqual(config.database, { kind: "postgres", url: SUPABASE_ENV.SUPABASE_DB_URL });
  assert.equal(config.auth.mode, "supabase");
  assert.equal(
    config.auth.mode === "supabase" && config.auth.jwksUrl,
    "https://abc.supabase.co/auth/v1/.well-known/jwks.json",
  );
  assert.equal(config.auth.mode === "supabase" && config.auth.publishableKey, "anon-legacy");
  assert.deepEqual(config.site, {
    basePath: "/beacon",
    publicPath: "/functions/v1/beacon",
    pages: false,
    dashboardUrl: undefined,
  });
  assert.equal(config.drain.secret, "service-role-legacy");
  assert.deepEqual(config.trustedProxies, ["0.0.0.0/0", "::/0"], "only the gateway reaches it");
  assert.equal(config.clientAddressHeader, "cf-connecting-ip", "not the client's X-Forwarded-For");
  assert.equal(
    defineConfig(
      configFromEdgeEnv({ ...SUPABASE_ENV, BEACON_CLIENT_ADDRESS_HEADER: "none" }, "supabase"),
    )
      .clientAddressHeader,
    undefined,
    "turned off",
  );
  assert.equal(config.nightly, "never");
  assert.equal(config.seedDemoData, false);
});

Deno.test("on Supabase: the new key dictionaries win over the legacy keys, a custom domain serves pages", () => {
  const config = defineConfig(configFromEdgeEnv({
    ...SUPABASE_ENV,
    SUPABASE_ANON_KEY: undefined,
    SUPABASE_SERVICE_ROLE_KEY: undefined,
    SUPABASE_PUBLISHABLE_KEYS: '{"default":"sb_publishable_x"}',
    SUPABASE_SECRET_KEYS: '{"default":"sb_secret_y"}',
    BEACON_SERVE_PAGES: "true",
    BEACON_DRAIN_BUDGET_MS: "5000",
  }, "supabase"));
  assert.equal(config.auth.mode === "supabase" && config.auth.publishableKey, "sb_publishable_x");
  assert.equal(config.drain.secret, "sb_secret_y");
  assert.equal(config.drain.budgetMs, 5000);
  assert.equal(config.site.pages, true);
});

Deno.test("on Deno Deploy: no prefix and pages on", () => {
  const config = defineConfig(configFromEdgeEnv({
    DATABASE_URL: "postgres://u@h/db",
    SUPABASE_URL: "https://abc.supabase.co",
    BEACON_DRAIN_SECRET: "a-drain-secret-of-some-length",
  }, "deno-deploy"));
  assert.deepEqual(config.site, {
    basePath: "",
    publicPath: "",
    pages: true,
    dashboardUrl: undefined,
  });
  assert.equal(config.drain.secret, "a-drain-secret-of-some-length");
  assert.deepEqual(config.trustedProxies, []);
});

Deno.test("the edge refuses the embedded database and local accounts, naming the setting", () => {
  assert.throws(
    () => configFromEdgeEnv({ SUPABASE_URL: "https://abc.supabase.co" }, "supabase"),
    /DATABASE_URL: the embedded database \(PGlite\) is server-only/,
  );
  assert.throws(
    () => configFromEdgeEnv({ DATABASE_URL: "postgres://u@h/db" }, "deno-deploy"),
    /SUPABASE_URL: local accounts are server-only/,
  );
  assert.throws(
    () => configFromEdgeEnv({ ...SUPABASE_ENV, BEACON_DATA_DIR: "./data" }, "supabase"),
    /BEACON_DATA_DIR: the embedded database and local accounts are server-only/,
  );
  assert.throws(
    () => configFromEdgeEnv({ ...SUPABASE_ENV, BEACON_SERVE_PAGES: "yes" }, "supabase"),
    /BEACON_SERVE_PAGES: must be true or false/,
  );
  assert.throws(
    () =>
      defineConfig(configFromEdgeEnv({ ...SUPABASE_ENV, BEACON_BASE_PATH: "beacon/" }, "supabase")),
    /site.basePath/,
  );
});
