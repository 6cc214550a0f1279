/**
 * Settings Beacon generates once and keeps in `beacon.settings`: the ingest key and the
 * secret that signs local access tokens (the values come from the caller, e.g.
 * `auth/secrets.ts`'s `randomSecret`).
 *
 * @module
 */
import type { Queryable } from "./mod.ts";

/**
 * Stores a setting's value, replacing the stored one (for values given by the environment
 * that the database itself reads, e.g. `raw_retention_days`).
 *
 * @param db The database.
 * @param key The setting's name.
 * @param value The value.
 */
export async function putSetting(db: Queryable, key: string, value: string): Promise<void> {
  await db.query(
    `insert into beacon.settings (key, value) values ($1, $2)
     on conflict (key) do update set value = excluded.value`,
    [key, value],
  );
}

/**
 * Returns the stored value of a setting, storing `generate()`'s value first when there is
 * none (concurrent starts agree on one value).
 *
 * @param db The database.
 * @param key The setting's name.
 * @param generate Makes the first value.
 * @returns The value, and whether it was created now.
 */
export async function ensureSetting(
  db: Queryable,
  key: string,
  generate: () => string,
): Promise<{ value: string; created: boolean }> {
  const inserted = await db.query<{ value: string }>(
    `insert into beacon.settings (key, value) values ($1, $2)
     on conflict (key) do nothing returning value`,
    [key, generate()],
  );
  if (inserted.length > 0) return { value: inserted[0].value, created: true };
  const [row] = await db.query<{ value: string }>(
    "select value from beacon.settings where key = $1",
    [key],
  );
  return { value: row.value, created: false };
}
