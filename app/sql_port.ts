/**
 * Starting the Postgres port on the embedded database (`BEACON_SQL_PORT`, `wire/`): the
 * password's verifier (from `BEACON_SQL_PASSWORD`, or generated on the first start, printed
 * once and kept only as a SCRAM-SHA-256 verifier in `beacon.settings` under
 * `sql_password_scram`), the server, and the banner lines that say how to connect.
 *
 * @module
 */
import type { BeaconConfig } from "../config/mod.ts";
import type { Database } from "../database/mod.ts";
import type { EmbeddedSession } from "../database/pglite.ts";
import { ensureSetting } from "../database/settings.ts";
import type { Logger } from "../log/mod.ts";
import { randomSecret } from "../auth/secrets.ts";
import { createScramVerifier } from "../wire/scram.ts";
import { startWireServer, type WireServer } from "../wire/server.ts";
import { StartupError } from "./startup_error.ts";

/** The setting that keeps a generated password's verifier. */
export const SQL_PASSWORD_SETTING = "sql_password_scram";

/** The started port and what the start banner says about it. */
export interface SqlPort {
  /** The server. */
  server: WireServer;
  /** Lines for the start banner. */
  lines: string[];
}

/**
 * Starts the Postgres port when configured (embedded mode only; `config/` refuses it
 * otherwise).
 *
 * @param config Beacon's configuration.
 * @param parts The database, its embedded session and the logger.
 * @returns The port, or undefined when it is off.
 * @throws {StartupError} When the port is taken or not allowed.
 */
export async function startSqlPort(
  config: BeaconConfig,
  parts: { db: Database; embedded?: EmbeddedSession; log: Logger },
): Promise<SqlPort | undefined> {
  const sql = config.sql;
  if (!sql || !parts.embedded) return undefined;
  let verifier: string;
  let shown: string | undefined;
  if (sql.password !== undefined) {
    verifier = await createScramVerifier(sql.password);
  } else {
    const generated = randomSecret(18);
    const generatedVerifier = await createScramVerifier(generated);
    const stored = await ensureSetting(parts.db, SQL_PASSWORD_SETTING, () => generatedVerifier);
    verifier = stored.value;
    if (stored.created) shown = generated;
  }
  let server: WireServer;
  try {
    server = await startWireServer({
      session: parts.embedded,
      hostname: sql.hostname,
      port: sql.port,
      verifier,
      idleInTransactionMs: sql.idleInTransactionMs,
      log: parts.log.child({ component: "sql-port" }),
    });
  } catch (error) {
    if (error instanceof Deno.errors.AddrInUse || error instanceof Deno.errors.PermissionDenied) {
      throw new StartupError(
        `BEACON_SQL_PORT ${sql.port} on ${sql.hostname} cannot be used (${error.name}); choose another port`,
        { cause: error },
      );
    }
    throw error;
  }
  const where = `postgres://postgres@${server.hostname}:${server.port}/postgres`;
  const lines = [`  postgres:  ${where} (database owner's rights; analysts: set role analyst)`];
  lines.push(
    shown
      ? `  postgres password (generated now, kept only as a verifier; shown once): ${shown}`
      : sql.password !== undefined
      ? "  postgres password: BEACON_SQL_PASSWORD"
      : "  postgres password: the one printed at the first start (or set BEACON_SQL_PASSWORD)",
  );
  return { server, lines };
}
