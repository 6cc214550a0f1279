/**
 * Beacon's database interface: one shape for the embedded PGlite database and for any
 * PostgreSQL 15+ reached through a connection string.
 *
 * @module
 */

/** Where the data lives: an embedded PGlite data directory, or a PostgreSQL server. */
export type DatabaseConfig =
  | { kind: "embedded"; dataDir: string }
  | { kind: "postgres"; url: string };

/** A result as PostgreSQL's text output: the columns (name, type oid) and each value's text. */
export interface TextResult {
  /** The result's columns, in order (names may repeat). */
  fields: { name: string; typeId: number }[];
  /** Each row's values as PostgreSQL prints them (what psql shows), null for NULL. */
  rows: (string | null)[][];
}

/** Something that runs SQL: a database or an open transaction. */
export interface Queryable {
  /**
   * Runs one statement with `$1`-style parameters and returns its rows.
   *
   * @param text The SQL statement.
   * @param params The values for `$1`, `$2`, ...
   */
  query<T = Record<string, unknown>>(
    text: string,
    params?: unknown[],
  ): Promise<T[]>;
  /**
   * Runs a script of one or more statements without parameters (migrations, seeds).
   *
   * @param script The SQL script.
   */
  exec(script: string): Promise<void>;
  /**
   * Runs one statement (extended protocol: a second statement is refused) and returns its
   * columns and values as text, unparsed (the SQL page).
   *
   * @param text The SQL statement.
   */
  queryText(text: string): Promise<TextResult>;
}

/** A connection to Beacon's database. */
export interface Database extends Queryable {
  /** Which adapter this is: `pglite` (embedded) or `postgres` (a server). */
  readonly kind: "pglite" | "postgres";
  /**
   * Runs `fn` inside one transaction: committed when it resolves, rolled back when it
   * throws.
   *
   * @param fn The work to do with the transaction.
   */
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>;
  /**
   * Runs a script of statements without parameters as one transaction (PostgreSQL's implicit
   * transaction of one message: a failed statement rolls all back and runs none after it),
   * in one round trip.
   *
   * @param script The statements, separated by semicolons.
   * @returns The rows of each statement that describes rows (a `select`, a write with
   *   `returning`), in order; a statement without (a write without `returning`, `set`) has
   *   no entry.
   *
   * @example
   * ```ts
   * const [[a], [b]] = await db.queryScript("select 1 as one; select 2 as two");
   * ```
   */
  queryScript<T = Record<string, unknown>>(script: string): Promise<T[][]>;
  /** Closes the connection (or stops the embedded database). */
  close(): Promise<void>;
}
