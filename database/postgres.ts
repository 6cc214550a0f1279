/**
 * The server adapter: any PostgreSQL 15+ (a Supabase project's included) through the
 * `postgres` driver.
 *
 * @module
 */
import postgres from "postgres";
import type { Database, Queryable, TextResult } from "./mod.ts";

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
      return sql.begin((tx) => fn(wrap(tx))) as Promise<T>;
    },
    async close(): Promise<void> {
      await sql.end({ timeout: 5 });
    },
  };
}
