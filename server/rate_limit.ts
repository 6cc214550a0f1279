/**
 * Failed sign-in attempts, counted per key (an account, an address) over a sliding window.
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
 * @param options How many failures in how long.
 * @returns The limiter.
 */
export function createFailureLimiter(options: FailureLimiterOptions): FailureLimiter {
  const now = options.now ?? Date.now;
  const failures = new Map<string, number[]>();
  const recent = (key: string) => {
    const cutoff = now() - options.windowMs;
    const list = (failures.get(key) ?? []).filter((t) => t > cutoff);
    if (list.length === 0) failures.delete(key);
    else failures.set(key, list);
    return list;
  };
  return {
    fail(key) {
      failures.set(key, [...recent(key), now()]);
      if (failures.size > 100_000) failures.delete(failures.keys().next().value!);
    },
    reset(key) {
      failures.delete(key);
    },
    retryAfterMs(key) {
      const list = recent(key);
      if (list.length < options.max) return 0;
      return list[list.length - options.max] + options.windowMs - now();
    },
  };
}
