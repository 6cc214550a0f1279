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
 * A string as an escaped SQL literal (`E'...'`: backslashes, then quotes, doubled), the same
 * whatever `standard_conforming_strings` is. Exact for the UTF-8 client encoding both
 * adapters use (postgres.js sets it; PGlite has no other). A NUL character, which no
 * PostgreSQL text can hold (the server refuses the message), is refused here.
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
    // same connection (in the same round trip when it has no parameters: postgres.js asks
    // the server to describe one with parameters first); the server runs them in order, and
    // a failed set-up aborts the transaction, so the work runs nothing as anyone else.
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
 * Runs one statement without parameters as a signed-in user, in one message: the set-up and
 * the statement are PostgreSQL's implicit transaction of that message (one round trip;
 * {@linkcode actAsUser} takes three: begin, the set-up with the first statement, commit).
 * When the set-up fails, the statement does not run; when the statement fails, nothing of
 * it stays and the role and claims end with the message.
 *
 * The claims set are `sub` and `role` alone (enough for `auth.uid()`, which Beacon's
 * policies read): a failed statement's log line carries the message's whole text, which
 * then holds no e-mail or metadata. Work that reads other claims (`auth.jwt()`), or has
 * parameters, goes through {@linkcode actAsUser}.
 *
 * @param db The database.
 * @param claims The verified token claims: `sub` is used.
 * @param text One statement that returns rows (a `select`, or a write with `returning`),
 *   without parameters.
 * @param options The statement timeout.
 * @returns The statement's rows. Rejects when the claims hold a NUL character (nothing is
 *   sent), and when the statement returned no rows description (it ran, as the user).
 *
 * @example
 * ```ts
 * const rows = await queryAsUser(db, { sub: userId }, "select * from analytics.summary()");
 * ```
 */
export async function queryAsUser<T = Record<string, unknown>>(
  db: Database,
  claims: { sub: string },
  text: string,
  options: ActAsOptions = {},
): Promise<T[]> {
  const setUp = setUpStatement("authenticated", { sub: claims.sub }, options);
  const results = await db.queryScript<T>(`${setUp};\n${text}`);
  if (results.length !== 2) {
    throw new TypeError(
      "queryAsUser: the statement returned no rows description (one select, or a write with returning, is expected)",
    );
  }
  return results[1];
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
