/**
 * Failures counted per key over a sliding window, in the process's memory: wrong ingestion
 * credentials per client address (a cheap guard; each process or isolate counts its own).
 * Sign-in attempts are counted in the database instead (`sign_in_limiter.ts`), so that every
 * process and edge isolate shares the lockout.
 *
 * @module
 */

/** Options for {@linkcode createFailureLimiter}. */
export interface FailureLimiterOptions {
  /** Failures allowed in the window. */
  max: number;
  /** The window, in milliseconds. */
  windowMs: number;
  /** The clock. @default {Date.now} */
  now?: () => number;
}

/** Counts failures and says when a key must wait. */
export interface FailureLimiter {
  /** Records a failure for the key. */
  fail(key: string): void;
  /** Forgets the key's failures (after a success). */
  reset(key: string): void;
  /** Milliseconds the key must still wait, or 0 when it may try. */
  retryAfterMs(key: string): number;
}

/**
 * Creates an in-memory limiter. (One Beacon process: several processes each count their own.)
 *
 * @param options How many attempts in how long.
 * @returns The limiter.
 *
 * @example Refuse a client after too many wrong keys
 * ```ts
 * const limiter = createFailureLimiter({ max: 20, windowMs: 60_000 });
 * if (limiter.retryAfterMs(address) > 0) return tooMany();
 * if (!keyIsRight()) limiter.fail(address);
 * ```
 */
export function createFailureLimiter(options: FailureLimiterOptions): FailureLimiter {
  const now = options.now ?? Date.now;
  const attempts = new Map<string, number[]>();
  const recent = (key: string) => {
    const cutoff = now() - options.windowMs;
    const list = (attempts.get(key) ?? []).filter((t) => t > cutoff);
    if (list.length === 0) attempts.delete(key);
    else attempts.set(key, list);
    return list;
  };
  const record = (key: string) => {
    attempts.set(key, [...recent(key), now()]);
    if (attempts.size > 100_000) attempts.delete(attempts.keys().next().value!);
  };
  const wait = (list: number[]) =>
    list.length < options.max ? 0 : list[list.length - options.max] + options.windowMs - now();
  return {
    fail: record,
    reset(key) {
      attempts.delete(key);
    },
    retryAfterMs(key) {
      return wait(recent(key));
    },
  };
}
