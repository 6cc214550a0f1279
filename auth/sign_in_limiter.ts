/**
 * The sign-in lockout: attempts counted per account and per client address in the database
 * (`private.sign_in_failures`, migration `20261127050000_sign_in_failures.sql`), so every
 * server process and every edge isolate on one database shares the counts. An attempt is
 * counted before the password is checked, in the same SQL call as the check of the limit
 * (atomic per key under advisory locks), so simultaneous attempts cannot all slip under it.
 *
 * @module
 */
import type { Database } from "../database/mod.ts";
import { actAsServiceRole } from "../database/act_as.ts";

/** How many attempts, in how long. */
export interface SignInLimits {
  /** Attempts per account within the window. @default {5} */
  accountMax: number;
  /** Attempts per client address within the window. @default {20} */
  addressMax: number;
  /** The window, in milliseconds. @default {15 minutes} */
  windowMs: number;
}

/** Beacon's limits: five attempts per account and twenty per address in 15 minutes. */
export const SIGN_IN_LIMITS: SignInLimits = {
  accountMax: 5,
  addressMax: 20,
  windowMs: 15 * 60_000,
};

/** The answer to {@linkcode SignInLimiter.begin}. */
export type SignInReservation =
  /** The attempt may go ahead; it counts as a failure until forgotten or succeeded. */
  | { attempt: string; retryAfterMs: 0 }
  /** Too many attempts: nothing was counted; wait this long. */
  | { attempt: null; retryAfterMs: number };

/** Counts sign-in attempts and says when an account or an address must wait. */
export interface SignInLimiter {
  /**
   * Counts an attempt for the account (lower-cased email) and the address when both are
   * under their limits; otherwise counts nothing and says how long to wait.
   */
  begin(account: string, address: string): Promise<SignInReservation>;
  /** Forgets an attempt that got no answer about the password (Auth or the database failed). */
  forget(attempt: string): Promise<void>;
  /** The password was right: forgets the account's failures and this attempt for its address. */
  succeeded(account: string, attempt: string): Promise<void>;
}

/**
 * The limiter on the database, called as `service_role` (the only API role allowed to).
 *
 * @param db The database (PostgreSQL or PGlite: the same SQL).
 * @param limits The limits. @default {SIGN_IN_LIMITS}
 * @returns The limiter.
 *
 * @example Count the attempt before checking the password
 * ```ts
 * const limiter = createSignInLimiter(db);
 * const { attempt, retryAfterMs } = await limiter.begin(email, address);
 * if (!attempt) return tooMany(retryAfterMs);
 * if (await passwordIsRight()) await limiter.succeeded(email, attempt);
 * ```
 */
export function createSignInLimiter(
  db: Database,
  limits: SignInLimits = SIGN_IN_LIMITS,
): SignInLimiter {
  return {
    async begin(account, address) {
      const [row] = await actAsServiceRole(
        db,
        (tx) =>
          tx.query<{ attempt: string | null; retry_after_ms: number }>(
            `select attempt::text, retry_after_ms
             from private.begin_sign_in_attempt($1, $2, $3, $4, $5)`,
            [account, address, limits.accountMax, limits.addressMax, limits.windowMs],
          ),
      );
      return row.attempt
        ? { attempt: row.attempt, retryAfterMs: 0 }
        : { attempt: null, retryAfterMs: Number(row.retry_after_ms) };
    },
    async forget(attempt) {
      await actAsServiceRole(
        db,
        (tx) => tx.query("select private.forget_sign_in_attempt($1::uuid)", [attempt]),
      );
    },
    async succeeded(account, attempt) {
      await actAsServiceRole(
        db,
        (tx) => tx.query("select private.clear_sign_in_failures($1, $2::uuid)", [account, attempt]),
      );
    },
  };
}
