/**
 * Acting as the user: runs work inside one transaction set up the way PostgREST sets up
 * each request, so row-level security decides what the work may see and do.
 *
 * @module
 */
import type { Database, Queryable } from "./mod.ts";

/** Options for {@linkcode actAsUser} and {@linkcode actAsServiceRole}. */
export interface ActAsOptions {
  /** Statement timeout in milliseconds. @default {8000} (Supabase's for authenticated) */
  statementTimeoutMs?: number;
}

/**
 * A string as an escaped SQL literal (`E'...'`: quotes and backslashes doubled), the same
 * whatever `standard_conforming_strings` is. A NUL character, which no PostgreSQL text can
 * hold and which would end the statement's text early, is refused.
 */
function literal(value: string): string {
  if (value.includes("\0")) throw new TypeError("a claim holds a NUL character");
  return `E'${value.replaceAll("\\", "\\\\").replaceAll("'", "''")}'`;
}

/**
 * The statement that sets a transaction up as PostgREST does: the role, the claims, the
 * statement timeout, all local to the transaction. Its values are literals, not parameters,
 * so it can travel in the same message as what follows it: a statement with parameters is
 * described first (postgres.js), a round trip of its own that holds back the statements
 * queued after it.
 */
function setUpStatement(
  role: "authenticated" | "service_role",
  claims: Record<string, unknown>,
  options: ActAsOptions,
): string {
  const sub = typeof claims.sub === "string" ? claims.sub : "";
  const timeout = String(Math.trunc(options.statementTimeoutMs ?? 8000));
  return `select set_config('role', ${literal(role)}, true),
    set_config('request.jwt.claims', ${literal(JSON.stringify({ ...claims, role }))}, true),
    set_config('request.jwt.claim.sub', ${literal(sub)}, true),
    set_config('request.jwt.claim.role', ${literal(role)}, true),
    set_config('statement_timeout', ${literal(timeout)}, true)`;
}

async function actAs<T>(
  db: Database,
  role: "authenticated" | "service_role",
  claims: Record<string, unknown>,
  fn: (tx: Queryable) => Promise<T>,
  options: ActAsOptions,
): Promise<T> {
  const setUpText = setUpStatement(role, claims, options);
  return await db.transaction(async (tx) => {
    // Sent without waiting for its answer: the work's first statement follows it on the
    // same connection, in the same round trip; the server runs them in order, and a failed
    // set-up aborts the transaction, so the work runs nothing as anyone else.
    const setUp = tx.query(setUpText);
    setUp.catch(() => {}); // awaited below; not an unhandled rejection meanwhile
    let result: T;
    try {
      result = await fn(tx);
    } catch (error) {
      // The set-up's own error, if it failed, says more than "transaction is aborted".
      await setUp;
      throw error;
    }
    await setUp;
    return result;
  });
}

/**
 * Runs `fn` as a signed-in user: role `authenticated`, `request.jwt.claims` and
 * `request.jwt.claim.sub` from the verified claims, a statement timeout; committed when
 * `fn` resolves, rolled back when it throws.
 *
 * @param db The database.
 * @param claims The verified token claims (`sub` at least).
 * @param fn The work.
 * @param options The statement timeout.
 * @returns What `fn` returns.
 *
 * @example
 * ```ts
 * const rows = await actAsUser(db, { sub: userId }, (tx) => tx.query("select * from analytics.summary()"));
 * ```
 */
export function actAsUser<T>(
  db: Database,
  claims: { sub: string } & Record<string, unknown>,
  fn: (tx: Queryable) => Promise<T>,
  options: ActAsOptions = {},
): Promise<T> {
  return actAs(db, "authenticated", claims, fn, options);
}

/**
 * Runs one statement without parameters as a signed-in user, set up as
 * {@linkcode actAsUser} does, in one message: one round trip instead of three (begin with
 * the set-up and the statement, then commit). The set-up and the statement are one
 * transaction: when the set-up fails, the statement does not run. For reads whose values
 * are fixed in the text (the benchmarks, the viewer's own flags); the work of a request with
 * parameters goes through {@linkcode actAsUser}.
 *
 * @param db The database.
 * @param claims The verified token claims (`sub` at least).
 * @param text One statement returning rows (a `select`), without parameters.
 * @param options The statement timeout.
 * @returns The statement's rows.
 *
 * @example
 * ```ts
 * const rows = await queryAsUser(db, { sub: userId }, "select * from analytics.summary()");
 * ```
 */
export function queryAsUser<T = Record<string, unknown>>(
  db: Database,
  claims: { sub: string } & Record<string, unknown>,
  text: string,
  options: ActAsOptions = {},
): Promise<T[]> {
  return db.queryScript<T>(`${setUpStatement("authenticated", claims, options)};\n${text}`);
}

/**
 * Runs `fn` as `service_role` (bypasses RLS, keeps grants): for ingestion and plugins.
 *
 * @param db The database.
 * @param fn The work.
 * @param options The statement timeout.
 * @returns What `fn` returns.
 */
export function actAsServiceRole<T>(
  db: Database,
  fn: (tx: Queryable) => Promise<T>,
  options: ActAsOptions = {},
): Promise<T> {
  return actAs(db, "service_role", {}, fn, {
    statementTimeoutMs: 60_000,
    ...options,
  });
}
