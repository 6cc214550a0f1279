import assert from "node:assert/strict";
import { openPglite } from "./pglite.ts";
import {
  applyMigrations,
  BOOTSTRAP_VERSION,
  MigrationFileError,
  needsBootstrap,
  readMigrations,
} from "./migrate.ts";
import type { Database } from "./mod.ts";

/** Writes files into a new temporary folder, in the order given. */
async function migrationsFolder(files: Record<string, string>): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "beacon-migrations-" });
  for (const [name, sql] of Object.entries(files)) {
    await Deno.writeTextFile(`${dir}/${name}`, sql);
  }
  return dir;
}

/** A database that fails the test if anything touches it. */
const untouchable = new Proxy({}, {
  get: (_, key) => {
    throw new Error(`the database was used (${String(key)}) before the files were checked`);
  },
}) as Database;

Deno.test("the landed migrations are all named YYYYMMDDHHMMSS_topic.sql, one version each", async () => {
  // readMigrations throws on a badly named file or a shared version.
  const migrations = await readMigrations();
  assert.ok(migrations.length >= 10);
  for (const m of migrations) {
    assert.match(`${m.version}_${m.name}.sql`, /^\d{14}_[a-z0-9_]+\.sql$/);
  }
});

Deno.test("migrations are read oldest first, whatever order the folder lists them in", async () => {
  const versions = Array.from(
    { length: 12 },
    (_, i) => `202601010000${String(i).padStart(2, "0")}`,
  );
  // Neither ascending nor descending, so no file system lists them sorted by creation order.
  const written = [7, 2, 11, 0, 5, 9, 1, 10, 3, 8, 4, 6].map((i) => versions[i]);
  const dir = await migrationsFolder({
    ".gitkeep": "",
    ...Object.fromEntries(written.map((v) => [`${v}_step_${v.slice(-2)}.sql`, `select ${v};`])),
  });
  try {
    const listed: string[] = [];
    for await (const entry of Deno.readDir(dir)) {
      if (entry.name.endsWith(".sql")) listed.push(entry.name.slice(0, 14));
    }
    assert.notDeepEqual(listed, versions, "the folder does not list them in order by itself");
    const migrations = await readMigrations(dir);
    assert.deepEqual(migrations.map((m) => m.version), versions);
    assert.deepEqual(migrations[3], {
      version: "20260101000003",
      name: "step_03",
      sql: "select 20260101000003;",
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a wrongly named file in the migrations folder is an error naming it, before anything is applied", async () => {
  const bad = [
    "2026010100000_thirteen_digits.sql",
    "20260101000000-dash_instead_of_underscore.sql",
    "20260101000000_CamelTopic.sql",
    "20260101000000_upper_case_ending.SQL",
    "20260101000000_no_ending",
    "20260101000000_backup.sql~",
    "20261301000000_month_thirteen.sql",
    "20260631000000_june_31.sql",
    "20260101240000_hour_24.sql",
    "add_users.sql",
    "notes.txt",
  ];
  for (const name of bad) {
    const dir = await migrationsFolder({
      "20260101000000_good.sql": "create table public.good (id int);",
      [name]: "create table public.bad (id int);",
    });
    try {
      const error = await readMigrations(dir).then(
        () => assert.fail(`${name} was accepted`),
        (e) => e,
      );
      assert.ok(error instanceof MigrationFileError, `${name}: ${error}`);
      assert.equal(error.file, name);
      assert.match(error.message, new RegExp(`^migration file ${RegExp.escape(name)}: `));
      await assert.rejects(
        applyMigrations(untouchable, { migrationsDir: dir }),
        MigrationFileError,
        `${name} stops the migration`,
      );
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  }
});

Deno.test("a folder inside the migrations folder is an error, and a hidden file is not", async () => {
  const dir = await migrationsFolder({ ".gitkeep": "", "20260101000000_good.sql": "select 1;" });
  try {
    assert.equal((await readMigrations(dir)).length, 1);
    await Deno.mkdir(`${dir}/20260101000001_folder.sql`);
    await assert.rejects(
      readMigrations(dir),
      /migration file 20260101000001_folder\.sql: not named/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("two migrations with one version are an error naming both", async () => {
  const dir = await migrationsFolder({
    "20260101000000_first.sql": "select 1;",
    "20260101000000_second.sql": "select 2;",
  });
  try {
    await assert.rejects(
      readMigrations(dir),
      /^MigrationFileError: migration file 20260101000000_second\.sql: shares its version 20260101000000 with 20260101000000_first\.sql/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("applying migrations twice applies nothing the second time", async () => {
  const db = await openPglite();
  try {
    const first = await applyMigrations(db);
    assert.equal(first.bootstrapped, true);
    assert.equal(first.applied.length, (await readMigrations()).length);
    const second = await applyMigrations(db);
    assert.deepEqual(second.applied, []);
    assert.equal(second.version, first.version);
    const [{ n }] = await db.query<{ n: number }>(
      "select count(*)::int as n from supabase_migrations.schema_migrations",
    );
    assert.equal(n, first.applied.length);
  } finally {
    await db.close();
  }
});

Deno.test("the bootstrap stays away from a database that already has Supabase's auth schema", async () => {
  const db = await openPglite();
  try {
    assert.equal(await needsBootstrap(db), true, "a bare database needs it");
    await db.exec(
      "create schema auth; create table auth.users (id uuid primary key);",
    );
    assert.equal(
      await needsBootstrap(db),
      false,
      "Supabase's own auth.users is left alone",
    );
    await db.exec("comment on table auth.users is 'Compatibility copy. beacon-bootstrap:0'");
    assert.equal(await needsBootstrap(db), true, "an older Beacon bootstrap is brought up to date");
    await db.exec(
      `comment on table auth.users is 'Compatibility copy. beacon-bootstrap:${BOOTSTRAP_VERSION}'`,
    );
    assert.equal(await needsBootstrap(db), false, "the current bootstrap is not applied again");
  } finally {
    await db.close();
  }
});

Deno.test("a failing migration is rolled back whole and not recorded", async () => {
  const dir = await Deno.makeTempDir();
  const db = await openPglite();
  try {
    await Deno.writeTextFile(
      `${dir}/20260101000000_good.sql`,
      "create table public.good (id int);",
    );
    await Deno.writeTextFile(
      `${dir}/20260101000001_bad.sql`,
      "create table public.half (id int); select 1/0;",
    );
    await assert.rejects(
      () => applyMigrations(db, { migrationsDir: dir }),
      /division by zero/,
    );
    const rows = await db.query<{ version: string }>(
      "select version from supabase_migrations.schema_migrations order by version",
    );
    assert.deepEqual(rows.map((r) => r.version), ["20260101000000"]);
    const [{ half }] = await db.query<{ half: string | null }>(
      "select to_regclass('public.half')::text as half",
    );
    assert.equal(half, null);
  } finally {
    await db.close();
    await Deno.remove(dir, { recursive: true });
  }
});
