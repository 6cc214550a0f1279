/**
 * Sign-in attempts, counted per key (an account, an address) over a sliding window.
 * An attempt is counted before the password is checked, in the same synchronous step as the
 * check of the limit, so simultaneous attempts cannot all slip under it.
 *
 * @module
 */

/** Options for {@linkcode createFailureLimiter}. */
export interface FailureLimiterOptions {
  /** Attempts allowed in the window (successful ones are forgotten). */
  max: number;
  /** The window, in milliseconds. */
  windowMs: number;
  /** The clock. @default {Date.now} */
  now?: () => number;
}

/** Counts attempts and says when a key must wait. */
export interface FailureLimiter {
  /**
   * Reserves an attempt for the key: when the key may try, records the attempt (it counts
   * as a failure until {@linkcode FailureLimiter.release} or `reset`) and returns 0;
   * otherwise records nothing and returns the milliseconds it must still wait.
   */
  tryAcquire(key: string): number;
  /** Forgets one attempt of the key (one that turned out not to be a failure). */
  release(key: string): void;
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
 * @example Count the attempt before checking the password
 * ```ts
 * const limiter = createFailureLimiter({ max: 5, windowMs: 15 * 60_000 });
 * const wait = limiter.tryAcquire(email);
 * if (wait > 0) return tooMany(wait);
 * if (await passwordIsRight()) limiter.reset(email);
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
    tryAcquire(key) {
      const ms = wait(recent(key));
      if (ms > 0) return ms;
      record(key);
      return 0;
    },
    release(key) {
      const list = recent(key);
      list.pop();
      if (list.length === 0) attempts.delete(key);
    },
    fail: record,
    reset(key) {
      attempts.delete(key);
    },
    retryAfterMs(key) {
      return wait(recent(key));
    },
  };
}
