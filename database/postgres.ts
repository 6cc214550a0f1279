/**
 * The server adapter: any PostgreSQL 15+ (a Supabase project's included) through the
 * `postgres` driver.
 *
 * @module
 */
import postgres from "postgres";
import type { Database, Queryable, TextResult } from "./mod.ts";
import { isConnectionLost } from "./errors.ts";

/** Options for {@linkcode openPostgres}. */
export interface PostgresOptions {
  /**
   * Most connections kept open at once.
   *
   * @default {10}
   */
  max?: number;
  /**
   * Seconds to wait for a new connection before failing with `CONNECT_TIMEOUT`, so that
   * during an outage requests answer 503 quickly while the driver keeps reconnecting.
   *
   * @default {2}
   */
  connectTimeoutSeconds?: number;
}

// deno-lint-ignore no-explicit-any
function wrap(sql: any): Queryable {
  return {
    async query<T>(text: string, params: unknown[] = []): Promise<T[]> {
      const rows = await sql.unsafe(text, params);
      return [...rows] as T[];
    },
    async exec(script: string): Promise<void> {
      await sql.unsafe(script).simple();
    },
    async queryText(text: string): Promise<TextResult> {
      const result = await sql.unsafe(text, []).raw();
      const decoder = new TextDecoder();
      return {
        fields: (result.columns ?? []).map((c: { name: string; type: number }) => ({
          name: c.name,
          typeId: c.type,
        })),
        rows: [...result].map((row: (Uint8Array | null)[]) =>
          row.map((v) => (v === null ? null : decoder.decode(v)))
        ),
      };
    },
  };
}

/** A promise that never settles: what a statement of a lost transaction waits for. */
const NEVER = new Promise<never>(() => {});

/**
 * Runs `fn` in a transaction, guarded against postgres.js 3.4.9 writing to a connection that
 * is gone (porsager/postgres#1208): once the server connection of a transaction is lost (a
 * killed backend, a stopped server), a further statement of it, or the `rollback` the driver
 * sends when `fn` fails, is queued on the dead socket and throws an uncaught `TypeError`
 * (`Cannot read properties of null (reading 'write')`) from a timer, which would end the
 * process. So once a statement fails because the connection is gone
 * ({@linkcode isConnectionLost}), or the driver has settled the transaction, `fn`'s
 * statements no longer reach the driver: they wait forever (`fn` is abandoned, never
 * rejected, so the driver sends no `rollback`), and the transaction rejects with the
 * connection's error, which `isUnavailable` reads as a 503. Any other error (a SQLSTATE at
 * ERROR level, 08P01 included: the connection stays open) is rethrown to `fn`, so the
 * driver rolls back and releases the connection.
 */
// deno-lint-ignore no-explicit-any
function guardedTransaction<T>(sql: any, fn: (tx: Queryable) => Promise<T>): Promise<T> {
  let lost = false;
  let fail!: (error: unknown) => void;
  const failed = new Promise<never>((_, reject) => (fail = reject));
  failed.catch(() => {});
  function run<R>(work: () => Promise<R>): Promise<R> {
    if (lost) return NEVER;
    return work().catch((error) => {
      if (!isConnectionLost(error)) throw error;
      lost = true;
      fail(error);
      return NEVER;
    });
  }
  // deno-lint-ignore no-explicit-any
  const begun: Promise<T> = sql.begin((tx: any) => {
    const base = wrap(tx);
    return fn({
      query: (text, params) => run(() => base.query(text, params)),
      exec: (script) => run(() => base.exec(script)),
      queryText: (text) => run(() => base.queryText(text)),
    });
  });
  begun.then(() => (lost = true), () => (lost = true));
  return Promise.race([begun, failed]);
}

/**
 * Connects to a PostgreSQL server.
 *
 * @param url A connection string, e.g. `postgres://user:pass@host:5432/db`.
 * @param options Pool size and connect timeout.
 * @returns The database.
 *
 * @example Connect and ask the server's version
 * ```ts
 * const db = openPostgres("postgres://postgres@127.0.0.1:5432/postgres");
 * const [row] = await db.query<{ server_version: string }>("show server_version");
 * await db.close();
 * ```
 */
export function openPostgres(
  url: string,
  options: PostgresOptions = {},
): Database {
  const sql = postgres(url, {
    max: options.max ?? 10,
    connect_timeout: options.connectTimeoutSeconds ?? 2,
    onnotice: () => {},
  });
  const base = wrap(sql);
  return {
    kind: "postgres",
    query: base.query,
    exec: base.exec,
    queryText: base.queryText,
    transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
      return guardedTransaction(sql, fn);
    },
    async queryScript<T>(script: string): Promise<T[][]> {
      // One simple-protocol message. postgres.js starts a result at each row description
      // after the first statement's end: one result for a script with one, an array of them
      // for several. A first result without columns is a statement without rows.
      const answer = await sql.unsafe(script).simple();
      // deno-lint-ignore no-explicit-any
      const results: any[] = Array.isArray(answer[0]) ? [...answer] : [answer];
      return results
        .filter((r, i) => i > 0 || (r.columns?.length ?? 0) > 0)
        .map((r) => [...r] as T[]);
    },
    async close(): Promise<void> {
      await sql.end({ timeout: 5 });
    },
  };
}
