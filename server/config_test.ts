import assert from "node:assert/strict";
import { ConfigError, configFromEnv, defineConfig } from "./config.ts";

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
