import assert from "node:assert/strict";
import { openPglite } from "./pglite.ts";
import { applyMigrations, BOOTSTRAP_VERSION, needsBootstrap, readMigrations } from "./migrate.ts";

Deno.test("migrations are timestamped, one topic each, and read oldest first", async () => {
  const migrations = await readMigrations();
  assert.ok(migrations.length >= 10);
  const versions = migrations.map((m) => m.version);
  assert.deepEqual(versions, [...versions].sort());
  assert.equal(
    new Set(versions).size,
    versions.length,
    "no two migrations share a version",
  );
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
