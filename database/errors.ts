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

/** The driver's codes for a connection that was open and is gone. */
const LOST_DRIVER_CODES = new Set([
  "CONNECTION_CLOSED",
  "CONNECTION_ENDED",
  "CONNECTION_DESTROYED",
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

/** SQLSTATEs for a server that ends the session: admin, crash shutdown, not now. */
const SHUTDOWN_SQLSTATES = new Set(["57P01", "57P02", "57P03"]);

/** Whether a server error ends the session (FATAL or PANIC), rather than the statement. */
function endsSession(e: object): boolean {
  const severity = (e as { severity?: unknown }).severity;
  return severity === "FATAL" || severity === "PANIC";
}

/**
 * SQLSTATEs that mean the server cannot serve now: class 08 (connection exception),
 * 57P01 admin_shutdown, 57P02 crash_shutdown, 57P03 cannot_connect_now, and 53300
 * too_many_connections. 08P01 protocol_violation counts only when it ends the session:
 * at ERROR level (e.g. a bind message with the wrong number of parameters) it is a bug of
 * the statement on a connection that stays open.
 */
function unavailableSqlState(e: object, code: string): boolean {
  if (code === "08P01") return endsSession(e);
  return /^08[0-9A-Z]{3}$/.test(code) || SHUTDOWN_SQLSTATES.has(code) || code === "53300";
}

/** Whether `e` is one of Deno's own errors for a socket refused, cut or timed out. */
function isDenoNetworkError(e: unknown): boolean {
  return e instanceof Deno.errors.ConnectionRefused || e instanceof Deno.errors.ConnectionReset ||
    e instanceof Deno.errors.ConnectionAborted || e instanceof Deno.errors.NotConnected ||
    e instanceof Deno.errors.BrokenPipe || e instanceof Deno.errors.TimedOut;
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
      if (DRIVER_CODES.has(code) || SOCKET_CODES.has(code) || unavailableSqlState(e, code)) {
        return true;
      }
    }
    // Deno's own network errors carry no `code`; their classes say what happened.
    if (isDenoNetworkError(e)) return true;
    e = (e as { cause?: unknown }).cause;
  }
  return false;
}

/**
 * Tells whether an error means the connection it came on is gone (so nothing more can be
 * sent on it, not even a `rollback`): the driver's `CONNECTION_*` codes, a socket cut or
 * refused, a server shutting the session down (57P01-57P03), or any server error at FATAL
 * or PANIC level. Narrower than {@linkcode isUnavailable}: an error at ERROR level, whatever
 * its SQLSTATE (08P01 included), leaves the connection open and its transaction to roll
 * back. Decided from `code` and `severity`, following `cause`.
 *
 * @param error Whatever was thrown.
 * @returns True when the connection is gone.
 */
export function isConnectionLost(error: unknown): boolean {
  for (let e = error, depth = 0; e !== null && typeof e === "object" && depth < 5; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === "string") {
      if (
        LOST_DRIVER_CODES.has(code) || SOCKET_CODES.has(code) || SHUTDOWN_SQLSTATES.has(code)
      ) {
        return true;
      }
    }
    if (endsSession(e) || isDenoNetworkError(e)) return true;
    e = (e as { cause?: unknown }).cause;
  }
  return false;
}
