/**
 * A connection lost during COMMIT: the transaction may have committed (a backend killed
 * while it waits for a synchronous standby has committed locally) or not, and the client
 * cannot tell. Answering "nothing was stored, try again" would make the retry of an event
 * sent without an id (the server made one, `ingest/check.ts`) a second copy. So the store
 * learns its transaction's id inside the transaction and, when the commit's answer is lost,
 * asks `pg_xact_status` on another pooled connection what became of it.
 *
 * @module
 */
import type { Database } from "../database/mod.ts";
import { isConnectionLost, isUnavailable } from "../database/errors.ts";
import { ApiError } from "../http/errors.ts";

/** What a transaction's work returned, once its statement resolved, before its commit. */
export interface Done<T> {
  /** The transaction's id (`pg_current_xact_id()`, as text), or null when it wrote nothing. */
  xid: string | null;
  /** What the work returned: the answer should the transaction have committed. */
  result: T;
}

/** How many times a transaction still "in progress" is asked about again. */
const IN_PROGRESS_CHECKS = 20;
/** The pause between two of those checks, in milliseconds. */
const IN_PROGRESS_PAUSE_MS = 25;

/**
 * A commit whose outcome could not be learned: 503, the events may have been stored, and
 * sending them again under the same ids is safe.
 */
export class CommitUnknownError extends ApiError {
  /** Why the outcome is unknown: the check's error, or the status it found. */
  readonly check: unknown;
  /**
   * @param cause The lost connection's error.
   * @param check Why the outcome is unknown (the check's error, or the status it found).
   */
  constructor(cause: unknown, check: unknown) {
    super(
      503,
      "unavailable",
      "the connection to the database was lost while committing and the outcome is unknown: " +
        "the events may have been stored. Sending them again is safe for events that came " +
        "with an id (uuid): an id already stored is a duplicate, stored once",
      { retryAfterSeconds: 2 },
    );
    this.name = "CommitUnknownError";
    this.cause = cause;
    this.check = check;
  }
}

/** How many connections in a row may turn out lost while asking. */
const LOST_CONNECTIONS = 3;

/**
 * Asks `pg_xact_status` once, in a transaction of its own: it takes a connection of the
 * pool no other statement is queued on (a plain query may be pipelined behind a busy one),
 * and is asked again on another when that connection turns out lost too (a pool keeps
 * connections a restart or a kill has cut until it uses them).
 */
async function askStatus(db: Database, xid: string): Promise<string | null> {
  for (let attempt = 1;; attempt++) {
    try {
      return await db.transaction(async (tx) => {
        const [{ status }] = await tx.query<{ status: string | null }>(
          "select pg_catalog.pg_xact_status($1::text::xid8) as status",
          [xid],
        );
        return status;
      });
    } catch (error) {
      if (!isConnectionLost(error) || attempt >= LOST_CONNECTIONS) throw error;
    }
  }
}

/**
 * `pg_xact_status` of a transaction, asked again while it is still "in progress" (a
 * terminated backend leaves the running transactions a moment after its socket closes).
 *
 * @param db The database (a pooled connection, not the lost one).
 * @param xid The transaction's id, as text.
 * @returns "committed", "aborted", "in progress" (still, after the checks), or null (too
 *   old to know).
 */
export async function transactionStatus(db: Database, xid: string): Promise<string | null> {
  for (let check = 1;; check++) {
    const status = await askStatus(db, xid);
    if (status !== "in progress" || check >= IN_PROGRESS_CHECKS) return status;
    await new Promise((resolve) => setTimeout(resolve, IN_PROGRESS_PAUSE_MS));
  }
}

/**
 * Settles a transaction that failed: rethrows `error` unless it is the database's
 * unavailability after the work had resolved (the commit's answer lost). Then: nothing
 * written (`xid` null), or the transaction committed, and the work's result stands;
 * aborted (or too old to know), and `error` is rethrown (a 503, nothing stored); the
 * outcome unknown (the check failed, or the transaction is still in progress), and a
 * {@linkcode CommitUnknownError}.
 *
 * @param db The database to ask on.
 * @param error What the transaction failed with.
 * @param done What the work returned, once it did; undefined if it never did.
 * @returns The work's result, when it was committed.
 */
export async function settleLostCommit<T>(
  db: Database,
  error: unknown,
  done: Done<T> | undefined,
): Promise<T> {
  if (done === undefined || !isUnavailable(error)) throw error;
  if (done.xid === null) return done.result;
  let status: string | null;
  try {
    status = await transactionStatus(db, done.xid);
  } catch (checkError) {
    throw new CommitUnknownError(error, checkError);
  }
  if (status === "committed") return done.result;
  if (status === "in progress") throw new CommitUnknownError(error, status);
  throw error;
}
