/**
 * What the PostHog endpoints ask the database about persons: which distinct ids are users
 * of the app, and storing `$set` / `$set_once` (SQL in migration
 * 20261127010300_person_properties.sql).
 *
 * @module
 */
import type { Database } from "../../database/mod.ts";
import { actAsServiceRole } from "../../database/act_as.ts";
import type { PersonChange } from "./map.ts";

/**
 * The ids among `ids` that are `auth.users` ids.
 *
 * @param db The database.
 * @param ids Uuid-shaped candidate ids, lower case.
 * @returns The users among them.
 */
export async function knownUserIds(db: Database, ids: string[]): Promise<Set<string>> {
  if (ids.length === 0) return new Set();
  const rows = await actAsServiceRole(db, (tx) =>
    tx.query<{ id: string }>(
      "select id::text as id from private.known_user_ids($1::text::uuid[]) as k (id)",
      [`{${ids.join(",")}}`],
    ));
  return new Set(rows.map((r) => r.id));
}

/**
 * Applies person-property changes in order, committed when it resolves.
 *
 * @param db The database.
 * @param changes The changes of the stored events.
 */
export async function applyPersonProperties(
  db: Database,
  changes: PersonChange[],
): Promise<void> {
  if (changes.length === 0) return;
  await actAsServiceRole(
    db,
    (tx) =>
      tx.query("select private.apply_person_properties($1::text::jsonb)", [
        JSON.stringify(changes),
      ]),
  );
}
