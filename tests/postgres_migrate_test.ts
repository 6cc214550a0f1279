/**
 * Migrating a PostgreSQL 15 the way servers do when several start at once, and as a role
 * without the rights migrations need.
 */
import assert from "node:assert/strict";
import { openPostgres } from "../database/postgres.ts";
import { applyBootstrap, applyMigrations, readMigrations } from "../database/migrate.ts";
import { missingPostgres15, skipWithoutPostgres15, startPostgres15 } from "./support/postgres15.ts";
import { startEmptyPostgres15 } from "./support/database.ts";

const missing = await missingPostgres15();

Deno.test({
  name: "two servers migrating one fresh database at once both succeed, each migration once",
  ignore: skipWithoutPostgres15(missing),
  async fn() {
    assert.deepEqual(missing, [], `missing: ${missing.join(", ")}`);
    const pg = await startEmptyPostgres15();
    const admin = openPostgres(pg.adminUrl, { max: 1 });
    const first = pg.connect();
    const second = pg.connect();
    try {
      await applyBootstrap(admin);
      const [a, b] = await Promise.all([
        applyMigrations(first, { bootstrap: "never" }),
        applyMigrations(second, { bootstrap: "never" }),
      ]);
      const expected = (await readMigrations()).map((m) => m.version);
      assert.deepEqual(
        [...a.applied, ...b.applied].sort(),
        expected,
        "between them they applied every migration, none twice",
      );
      assert.equal(a.version, expected.at(-1));
      assert.equal(b.version, expected.at(-1));
      const rows = await admin.query<{ version: string; n: number }>(
        `select version, count(*)::int as n from supabase_migrations.schema_migrations
          group by version order by version`,
      );
      assert.deepEqual(rows, expected.map((version) => ({ version, n: 1 })));
    } finally {
      await Promise.all([admin.close(), first.close(), second.close()]);
      await pg.stop();
    }
  },
});

Deno.test({
  name: "a DATABASE_URL role without rights stops the start in one line naming the refusal",
  ignore: skipWithoutPostgres15(missing),
  async fn() {
    assert.deepEqual(missing, [], `missing: ${missing.join(", ")}`);
    // A server of its own: in the shared one, the template has created Beacon's roles
    // already, and the first refusal would be another.
    const pg = await startPostgres15();
    try {
      const admin = openPostgres(pg.adminUrl, { max: 1 });
      try {
        await admin.exec("create role weakling login; revoke create on schema public from public;");
      } finally {
        await admin.close();
      }
      const out = await new Deno.Command(Deno.execPath(), {
        args: ["run", "-A", new URL("../main.ts", import.meta.url).pathname],
        env: {
          DATABASE_URL: `postgres://weakling@127.0.0.1:${pg.port}/postgres`,
          PORT: "0",
          BEACON_SEED: "",
        },
        stdout: "piped",
        stderr: "piped",
      }).output();
      const stderr = new TextDecoder().decode(out.stderr);
      assert.equal(out.code, 1, stderr);
      const lines = stderr.split("\n").filter((line) => line.trim() !== "");
      assert.equal(lines.length, 1, `exactly one line:\n${stderr}`);
      assert.match(
        lines[0],
        /^Beacon cannot start: the database refused: .*permission denied.*\(SQLSTATE 42501\); the role in DATABASE_URL lacks the rights/,
      );
    } finally {
      await pg.stop();
    }
  },
});
