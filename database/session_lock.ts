/**
 * Turns on PGlite's one session. PGlite is a single PostgreSQL backend: the app and every
 * client served over the wire protocol (`wire/`) share its transaction and its session
 * settings (role, `search_path`, `DateStyle`, ...). Whoever runs SQL takes the session first;
 * a holder that leaves settings of its own behind saves and resets them when another holder
 * takes the session, and gets them back when its turn comes again.
 *
 * @module
 */

/** Someone who runs SQL on the session. */
export interface SessionHolder {
  /** Called when another holder takes the session after this one (save and reset state). */
  leave?(): Promise<void>;
  /** Called when this holder takes the session after another one (restore state). */
  enter?(): Promise<void>;
}

/** The lock over PGlite's session, FIFO. */
export interface SessionLock {
  /**
   * Waits for the session, switches it to `holder`, and returns the function that gives it
   * back.
   *
   * @param holder Who takes it.
   */
  acquire(holder: SessionHolder): Promise<() => void>;
  /**
   * Runs `fn` holding the session.
   *
   * @param holder Who takes it.
   * @param fn The work.
   */
  run<T>(holder: SessionHolder, fn: () => Promise<T>): Promise<T>;
  /** Forgets `holder` as the one whose state is in the session (it reset it itself). */
  forget(holder: SessionHolder): void;
}

/**
 * Makes the lock over one PGlite session.
 *
 * @returns The lock.
 *
 * @example
 * ```ts
 * const lock = createSessionLock();
 * const app = {};
 * await lock.run(app, () => pg.query("select 1"));
 * ```
 */
export function createSessionLock(): SessionLock {
  let tail: Promise<void> = Promise.resolve();
  let current: SessionHolder | undefined;
  const lock: SessionLock = {
    async acquire(holder) {
      let release!: () => void;
      const previous = tail;
      tail = new Promise<void>((resolve) => (release = resolve));
      await previous;
      try {
        if (current !== holder) {
          // Forgotten before leaving: a leave that fails is not tried again by every caller.
          const leaving = current;
          current = undefined;
          await leaving?.leave?.();
          await holder.enter?.();
          current = holder;
        }
      } catch (error) {
        release();
        throw error;
      }
      return release;
    },
    async run(holder, fn) {
      const release = await lock.acquire(holder);
      try {
        return await fn();
      } finally {
        release();
      }
    },
    forget(holder) {
      if (current === holder) current = undefined;
    },
  };
  return lock;
}
