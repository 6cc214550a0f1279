/**
 * Runs the pgTAP suite in `supabase/tests/` with pg_prove against a PostgreSQL 15 with
 * pg_cron that this test starts, migrated as on Supabase. Each test file is one step.
 */
import assert from "node:assert/strict";
import { missingPostgres15, skipWithoutPostgres15 } from "./support/postgres15.ts";
import { startMigratedPostgres15 } from "./support/database.ts";

const TESTS_DIR = new URL("../supabase/tests/", import.meta.url).pathname;
const missing = await missingPostgres15({ pgProve: true });

Deno.test({
  name: "pgTAP suite (supabase/tests) passes on PostgreSQL 15 with pg_cron",
  ignore: skipWithoutPostgres15(missing),
  async fn(t) {
    assert.deepEqual(missing, [], `missing: ${missing.join(", ")}`);
    const files: string[] = [];
    for await (const entry of Deno.readDir(TESTS_DIR)) {
      if (entry.isFile && entry.name.endsWith(".test.sql")) {
        files.push(entry.name);
      }
    }
    files.sort();
    assert.ok(files.length > 0, "no pgTAP files found");

    const { pg, db } = await startMigratedPostgres15({ pgCron: true });
    try {
      await db.close();
      for (const file of files) {
        await t.step(file, async () => {
          const out = await new Deno.Command("pg_prove", {
            args: [
              "--verbose",
              "--failures",
              "-h",
              "127.0.0.1",
              "-p",
              String(pg.port),
              "-U",
              "postgres",
              "-d",
              pg.database,
              `${TESTS_DIR}${file}`,
            ],
            stdout: "piped",
            stderr: "piped",
          }).output();
          const text = new TextDecoder().decode(out.stdout) +
            new TextDecoder().decode(out.stderr);
          const notOk = text.split("\n").filter((line) => /^\s*not ok \d+/.test(line));
          const ok = text.split("\n").filter((line) => /^\s*ok \d+/.test(line));
          console.log(
            `${file}: ${ok.length} assertions passed, ${notOk.length} failed`,
          );
          assert.ok(
            out.success && notOk.length === 0,
            `pg_prove ${file} failed:\n${text}`,
          );
          assert.ok(ok.length > 0, `${file} ran no assertion:\n${text}`);
        });
      }
    } finally {
      await pg.stop();
    }
  },
});
