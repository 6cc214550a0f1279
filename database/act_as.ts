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

async function actAs<T>(
  db: Database,
  role: "authenticated" | "service_role",
  claims: Record<string, unknown>,
  fn: (tx: Queryable) => Promise<T>,
  options: ActAsOptions,
): Promise<T> {
  return await db.transaction(async (tx) => {
    // Sent without waiting for its answer: the work's first statement follows it on the
    // same connection (one round trip fewer per request); the server runs them in order,
    // and a failed set-up aborts the transaction, so the work runs nothing as anyone else.
    const setUp = tx.query(
      `select set_config('role', $1, true),
              set_config('request.jwt.claims', $2, true),
              set_config('request.jwt.claim.sub', $3, true),
              set_config('request.jwt.claim.role', $1, true),
              set_config('statement_timeout', $4, true)`,
      [
        role,
        JSON.stringify({ ...claims, role }),
        typeof claims.sub === "string" ? claims.sub : "",
        String(options.statementTimeoutMs ?? 8000),
      ],
    );
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
