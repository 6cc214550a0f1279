/**
 * A wire client's session settings, kept apart from the app's: PGlite has one session, so
 * when the app (or another client) takes it after a client, the client's `set role`,
 * `set search_path`, `set DateStyle`, ... are saved and reset, and restored at its next turn.
 *
 * @module
 */
import type { PGlite } from "@electric-sql/pglite";
import type { SessionHolder } from "../database/session_lock.ts";

const CAPTURE = `
select session_user::text as auth,
       current_setting('role') as role,
       coalesce((select json_agg(json_build_array(name, current_setting(name)) order by name)
                   from pg_catalog.pg_settings
                  where source = 'session' and name not in ('role', 'session_authorization')),
                '[]')::text as settings`;

/** Back to the session as the app left it (the settings it started with). */
export const RESET_SESSION = "reset session authorization; reset role; reset all;";

/** A client's saved settings: [name, value] pairs, applied in order. */
export type SavedSettings = Array<[string, string]>;

/**
 * Reads the settings the client changed in this session.
 *
 * @param pg The instance (the caller holds the session).
 * @param owner The session user the app runs as (e.g. `postgres`).
 * @returns The settings to restore later, empty when the client changed nothing.
 */
export async function captureSettings(pg: PGlite, owner: string): Promise<SavedSettings> {
  const { rows: [row] } = await pg.query<{ auth: string; role: string; settings: string }>(
    CAPTURE,
  );
  const saved: SavedSettings = [];
  if (row.auth !== owner) saved.push(["session_authorization", row.auth]);
  saved.push(...(JSON.parse(row.settings) as SavedSettings));
  if (row.role !== "none") saved.push(["role", row.role]);
  return saved;
}

/**
 * Applies saved settings (session authorization first, role last).
 *
 * @param pg The instance (the caller holds the session).
 * @param saved What {@linkcode captureSettings} returned.
 */
export async function restoreSettings(pg: PGlite, saved: SavedSettings): Promise<void> {
  if (saved.length === 0) return;
  await pg.query(
    `select pg_catalog.set_config(s->>0, s->>1, false)
       from pg_catalog.json_array_elements($1::json) with ordinality as t(s, n) order by n`,
    [JSON.stringify(saved)],
  );
}

/**
 * Makes the session holder for one wire client: on leaving it saves the client's settings
 * and resets the session; on entering it restores them.
 *
 * @param pg The instance.
 * @param owner The session user the app runs as.
 * @param prefix The prefix of the client's prepared statements (`messages.ts`'s `prefixNames`).
 * @param role The role the session starts in, if not the owner (the user name the client gave).
 * @returns The holder, and `discard()` for when the client is gone (its prepared statements
 * deallocated, the session reset, nothing saved).
 */
export function clientSession(
  pg: PGlite,
  owner: string,
  prefix: string,
  role?: string,
): SessionHolder & { discard(): Promise<void> } {
  let saved: SavedSettings = role === undefined ? [] : [["role", role]];
  let gone = false;
  return {
    async leave() {
      if (gone) return;
      let unknown = false;
      try {
        saved = await captureSettings(pg, owner);
      } catch {
        saved = []; // unknown: nothing to restore, and the session is reset all the same
        unknown = true;
      }
      if (unknown || saved.length > 0) await pg.exec(RESET_SESSION);
    },
    async enter() {
      if (!gone) await restoreSettings(pg, saved);
    },
    async discard() {
      gone = true;
      saved = [];
      await pg.exec(RESET_SESSION);
      const { rows } = await pg.query<{ name: string }>(
        "select name from pg_catalog.pg_prepared_statements where starts_with(name, $1)",
        [prefix],
      );
      for (const { name } of rows) await pg.exec(`deallocate "${name.replaceAll('"', '""')}"`);
    },
  };
}
