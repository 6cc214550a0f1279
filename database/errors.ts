/**
 * Telling "the database is unavailable" apart from every other failure, by error codes
 * only (never by message text, which drivers and servers word differently and translate).
 *
 * @module
 */

/** The code of {@linkcode DatabaseClosedError}. */
export const DATABASE_CLOSED = "DATABASE_CLOSED";

/** The `postgres` driver's own codes for a connection that is gone or never came. */
const DRIVER_CODES = new Set([
  "CONNECTION_CLOSED",
  "CONNECTION_ENDED",
  "CONNECTION_DESTROYED",
  "CONNECT_TIMEOUT",
  DATABASE_CLOSED,
]);

/** Operating-system codes for a socket that cannot be opened or was cut. */
const SOCKET_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ECONNABORTED",
  "EPIPE",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "EHOSTDOWN",
  "ENETUNREACH",
  "ENETDOWN",
  "ENOTFOUND",
  "EAI_AGAIN",
  "ENOTCONN",
]);

/**
 * SQLSTATEs that mean the server cannot serve now: class 08 (connection exception),
 * 57P01 admin_shutdown, 57P02 crash_shutdown, 57P03 cannot_connect_now, and 53300
 * too_many_connections.
 */
function unavailableSqlState(code: string): boolean {
  return /^08[0-9A-Z]{3}$/.test(code) || code === "57P01" || code === "57P02" ||
    code === "57P03" || code === "53300";
}

/**
 * Thrown by Beacon's database adapters when the database was closed (the embedded one
 * stopped, or the pool ended) and work still arrives: unavailable, not a bug.
 */
export class DatabaseClosedError extends Error {
  /** Always `DATABASE_CLOSED`. */
  readonly code = DATABASE_CLOSED;
  /**
   * @param options The error that revealed it, as `cause`.
   */
  constructor(options?: ErrorOptions) {
    super("the database is closed", options);
    this.name = "DatabaseClosedError";
  }
}

/**
 * Tells whether an error means the database cannot be reached now (a 503, worth retrying),
 * as opposed to a failure of the request itself (a bug or a constraint: a 4xx or 500).
 * Decided from `code` (driver codes, socket errno names, SQLSTATEs), following `cause`.
 *
 * @param error Whatever was thrown.
 * @returns True when the database is unavailable.
 *
 * @example
 * ```ts
 * try {
 *   await db.query("select 1");
 * } catch (error) {
 *   if (isUnavailable(error)) console.error("database down, try again");
 * }
 * ```
 */
export function isUnavailable(error: unknown): boolean {
  for (let e = error, depth = 0; e !== null && typeof e === "object" && depth < 5; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === "string") {
      if (DRIVER_CODES.has(code) || SOCKET_CODES.has(code) || unavailableSqlState(code)) {
        return true;
      }
    }
    // Deno's own network errors carry no `code`; their classes say what happened.
    if (
      e instanceof Deno.errors.ConnectionRefused || e instanceof Deno.errors.ConnectionReset ||
      e instanceof Deno.errors.ConnectionAborted || e instanceof Deno.errors.NotConnected ||
      e instanceof Deno.errors.BrokenPipe || e instanceof Deno.errors.TimedOut
    ) {
      return true;
    }
    e = (e as { cause?: unknown }).cause;
  }
  return false;
}
