/**
 * Saved queries of the SQL page (`analytics.saved_queries`), read and written as the
 * signed-in user: RLS lets superusers and analysts read them all, and each owner change
 * and delete their own.
 *
 * @module
 */
import type { Queryable } from "../database/mod.ts";

/** A saved query. */
export interface SavedQuery {
  /** Its id. */
  id: string;
  /** Its name. */
  name: string;
  /** The query. */
  sql: string;
  /** The owner's email (or id when the email is not readable). */
  owner: string;
  /** Whether the signed-in user owns it. */
  mine: boolean;
  /** When it was last saved (ISO 8601). */
  updated_at: string;
}

/** Every saved query the user may read, newest first. */
export function listSavedQueries(tx: Queryable): Promise<SavedQuery[]> {
  return tx.query<SavedQuery>(
    `select q.id::text, q.name, q.sql, q.owner::text as owner, q.owner = auth.uid() as mine,
            to_char(q.updated_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') as updated_at
       from analytics.saved_queries q
      order by q.updated_at desc, q.name`,
  );
}

/**
 * Saves a query under a name: replaces the user's own query of that name, or adds it.
 *
 * @param tx A transaction as the user.
 * @param name The name.
 * @param sql The query.
 * @returns The saved query's id.
 */
export async function saveQuery(tx: Queryable, name: string, sql: string): Promise<string> {
  const [row] = await tx.query<{ id: string }>(
    `insert into analytics.saved_queries (name, sql) values ($1, $2)
     on conflict (owner, name) do update set sql = excluded.sql, updated_at = now()
     returning id::text`,
    [name, sql],
  );
  return row.id;
}

/**
 * Deletes a saved query (the owner's own, or any for a superuser; RLS decides).
 *
 * @returns Whether a row was deleted.
 */
export async function deleteSavedQuery(tx: Queryable, id: string): Promise<boolean> {
  const rows = await tx.query("delete from analytics.saved_queries where id = $1 returning 1", [
    id,
  ]);
  return rows.length > 0;
}
