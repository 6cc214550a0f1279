import assert from "node:assert/strict";
import { ConfigError, defineConfig } from "./mod.ts";
import { configFromEnv } from "./from_env.ts";

Deno.test("with nothing set Beacon runs embedded on port 8000 with demo data", () => {
  const config = defineConfig(configFromEnv({}));
  assert.equal(config.port, 8000);
  assert.deepEqual(config.database, { kind: "embedded", dataDir: "./data" });
  assert.equal(config.seedDemoData, true);
});

Deno.test("DATABASE_URL selects PostgreSQL and turns the demo data off", () => {
  const config = defineConfig(
    configFromEnv({ DATABASE_URL: "postgres://u@h:5432/db", PORT: "9000" }),
  );
  assert.deepEqual(config.database, {
    kind: "postgres",
    url: "postgres://u@h:5432/db",
  });
  assert.equal(config.port, 9000);
  assert.equal(config.seedDemoData, false);
});

Deno.test("a bad setting stops the start with a message naming it", () => {
  assert.throws(
    () => configFromEnv({ PORT: "eighty" }),
    (e) => e instanceof ConfigError && e.setting === "PORT",
  );
  assert.throws(
    () => configFromEnv({ DATABASE_URL: "mysql://x" }),
    (e) => e instanceof ConfigError && /DATABASE_URL/.test(e.message),
  );
  assert.throws(() => configFromEnv({ BEACON_SEED: "yes" }), /BEACON_SEED/);
  assert.throws(() => defineConfig({ port: 70000 }), /port/);
});

Deno.test("PostHog and webhook plugins are on when their settings are", () => {
  const config = defineConfig(configFromEnv({
    POSTHOG_API_KEY: "phc_x",
    POSTHOG_HOST: "https://eu.i.posthog.com/",
    BEACON_WEBHOOK_URL: "https://example.com/hook",
    BEACON_WEBHOOK_SECRET: "0123456789abcdef",
  }));
  assert.deepEqual(config.plugins.map((p) => p.name), ["posthog", "webhook"]);
  assert.throws(
    () => configFromEnv({ BEACON_WEBHOOK_URL: "https://example.com/hook" }),
    /BEACON_WEBHOOK_SECRET/,
  );
  assert.throws(
    () => configFromEnv({ POSTHOG_HOST: "https://eu.i.posthog.com" }),
    /POSTHOG_API_KEY/,
  );
  assert.throws(
    () => configFromEnv({ POSTHOG_API_KEY: "k", POSTHOG_HOST: "ftp://x" }),
    /POSTHOG_HOST/,
  );
});

Deno.test("the Matomo plugin is on when MATOMO_URL is set, with its site id and token", () => {
  const config = defineConfig(configFromEnv({
    MATOMO_URL: "https://matomo.example.com/",
    MATOMO_SITE_ID: "3",
    MATOMO_TOKEN_AUTH: "0123456789abcdef0123456789abcdef",
  }));
  assert.deepEqual(config.plugins.map((p) => p.name), ["matomo"]);
  assert.deepEqual(defineConfig(configFromEnv({})).plugins, [], "off unless set");
  assert.throws(() => configFromEnv({ MATOMO_SITE_ID: "3" }), /MATOMO_URL/);
  assert.throws(
    () => configFromEnv({ MATOMO_URL: "https://m.example.com", MATOMO_TOKEN_AUTH: "t" }),
    /MATOMO_SITE_ID/,
  );
  assert.throws(
    () =>
      configFromEnv({
        MATOMO_URL: "https://m.example.com",
        MATOMO_SITE_ID: "x1",
        MATOMO_TOKEN_AUTH: "t",
      }),
    /MATOMO_SITE_ID/,
  );
  assert.throws(
    () => configFromEnv({ MATOMO_URL: "https://m.example.com", MATOMO_SITE_ID: "1" }),
    /MATOMO_TOKEN_AUTH/,
  );
  assert.throws(
    () =>
      configFromEnv({
        MATOMO_URL: "matomo.example.com",
        MATOMO_SITE_ID: "1",
        MATOMO_TOKEN_AUTH: "t",
      }),
    /MATOMO_URL/,
  );
});

Deno.test("Supabase settings select Supabase sign-in, JWKS by default", () => {
  const jwks = defineConfig(configFromEnv({ SUPABASE_URL: "https://abc.supabase.co" }));
  assert.deepEqual(jwks.auth, {
    mode: "supabase",
    url: "https://abc.supabase.co",
    jwksUrl: "https://abc.supabase.co/auth/v1/.well-known/jwks.json",
    jwtSecret: undefined,
    audience: "authenticated",
    publishableKey: undefined,
  });
  const secret = defineConfig(configFromEnv({ SUPABASE_JWT_SECRET: "x".repeat(40) }));
  assert.equal(secret.auth.mode === "supabase" && secret.auth.jwtSecret, "x".repeat(40));
  assert.throws(() => configFromEnv({ SUPABASE_JWT_SECRET: "short" }), /SUPABASE_JWT_SECRET/);
  assert.throws(() => configFromEnv({ BEACON_INGEST_KEY: "short" }), /BEACON_INGEST_KEY/);
  assert.equal(defineConfig(configFromEnv({})).auth.mode, "local");
});

Deno.test("BEACON_RAW_RETENTION_DAYS is a whole number of days, unset by default", () => {
  assert.equal(defineConfig(configFromEnv({})).rawRetentionDays, undefined);
  assert.equal(
    defineConfig(configFromEnv({ BEACON_RAW_RETENTION_DAYS: "400" })).rawRetentionDays,
    400,
  );
  assert.throws(
    () => configFromEnv({ BEACON_RAW_RETENTION_DAYS: "90d" }),
    (e) => e instanceof ConfigError && e.setting === "BEACON_RAW_RETENTION_DAYS",
  );
  assert.throws(
    () => defineConfig(configFromEnv({ BEACON_RAW_RETENTION_DAYS: "0" })),
    /rawRetentionDays/,
  );
});

Deno.test("BEACON_SQL_PORT is off by default and listens on loopback with a 10 s idle bound", () => {
  assert.equal(defineConfig(configFromEnv({})).sql, undefined);
  assert.deepEqual(defineConfig(configFromEnv({ BEACON_SQL_PORT: "5433" })).sql, {
    port: 5433,
    hostname: "127.0.0.1",
    password: undefined,
    idleInTransactionMs: 10_000,
  });
  const open = defineConfig(configFromEnv({
    BEACON_SQL_PORT: "5433",
    BEACON_SQL_HOST: "0.0.0.0",
    BEACON_SQL_PASSWORD: "a-long-enough-password",
    BEACON_SQL_IDLE_IN_TRANSACTION_MS: "2500",
  })).sql;
  assert.deepEqual(open, {
    port: 5433,
    hostname: "0.0.0.0",
    password: "a-long-enough-password",
    idleInTransactionMs: 2500,
  });
});

Deno.test("BEACON_SQL_PORT refuses DATABASE_URL, a short password, and companions without it", () => {
  const refused = (env: Record<string, string>, setting: string) =>
    assert.throws(
      () => defineConfig(configFromEnv(env)),
      (e) => e instanceof ConfigError && e.setting === setting,
      JSON.stringify(env),
    );
  refused({ BEACON_SQL_PORT: "5433", DATABASE_URL: "postgres://u@h/db" }, "BEACON_SQL_PORT");
  refused({ BEACON_SQL_PORT: "5433", BEACON_SQL_PASSWORD: "short" }, "BEACON_SQL_PASSWORD");
  refused({ BEACON_SQL_PASSWORD: "a-long-enough-password" }, "BEACON_SQL_PORT");
  refused({ BEACON_SQL_PORT: "fifty" }, "BEACON_SQL_PORT");
  refused(
    { BEACON_SQL_PORT: "5433", BEACON_SQL_IDLE_IN_TRANSACTION_MS: "10" },
    "BEACON_SQL_IDLE_IN_TRANSACTION_MS",
  );
  assert.throws(
    () =>
      defineConfig({ database: { kind: "postgres", url: "postgres://h/db" }, sql: { port: 1 } }),
    (e) => e instanceof ConfigError && e.setting === "sql.port",
  );
});

Deno.test("BEACON_POSTHOG_PROJECT_KEY is passed down as the PostHog project key, 16+ characters, unset by default", () => {
  assert.equal(defineConfig(configFromEnv({})).posthogProjectKey, undefined);
  const key = "phc_TeamsExistingProjectKey0123456789abcdef";
  assert.equal(
    defineConfig(configFromEnv({ BEACON_POSTHOG_PROJECT_KEY: key })).posthogProjectKey,
    key,
  );
  assert.throws(
    () => configFromEnv({ BEACON_POSTHOG_PROJECT_KEY: "phc_short" }),
    (e) => e instanceof ConfigError && e.setting === "BEACON_POSTHOG_PROJECT_KEY",
  );
});

Deno.test("request limits are settings: body bytes, events per batch, statement timeout", () => {
  const config = defineConfig(configFromEnv({
    BEACON_MAX_BODY_BYTES: "4096",
    BEACON_MAX_BATCH_EVENTS: "5",
    BEACON_STATEMENT_TIMEOUT_MS: "50",
  }));
  assert.equal(config.limits.maxBodyBytes, 4096);
  assert.equal(config.limits.maxBatchEvents, 5);
  assert.equal(config.limits.statementTimeoutMs, 50);
  assert.equal(defineConfig(configFromEnv({})).limits.maxBatchEvents, 1000);
  assert.throws(
    () => configFromEnv({ BEACON_MAX_BATCH_EVENTS: "0" }),
    (e) => e instanceof ConfigError && e.setting === "BEACON_MAX_BATCH_EVENTS",
  );
});
