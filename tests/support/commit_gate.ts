/**
 * Holding and failing commits, for the group-commit tests: a database whose n-th
 * transaction runs a hook after its work and before its commit (to wait there, or to throw
 * and so roll it back), and timers that never fire (so a group waits for nothing but the
 * running commit, and every window timer started is counted).
 *
 * @module
 */
import type { Database, Queryable } from "../../database/mod.ts";
import type { GroupCommitTimers } from "../../ingest/group_commit.ts";

/** A promise with its resolve and reject at hand. */
export interface Deferred<T> {
  promise: Promise<T>;
  resolve(value: T): void;
  reject(error: unknown): void;
}

/** Makes a {@linkcode Deferred}. */
export function deferred<T = void>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((yes, no) => {
    resolve = yes;
    reject = no;
  });
  return { promise, resolve, reject };
}

/** A database whose transactions can be held or failed just before their commit. */
export interface HeldCommits {
  /** The database to hand to the code under test. */
  db: Database;
  /**
   * Runs `hook` in the `n`-th transaction (0 first) once its work is done, before it
   * commits; a hook that throws rolls the transaction back.
   */
  beforeCommit(n: number, hook: (tx: Queryable) => Promise<void>): void;
  /** Holds the `n`-th transaction before its commit: resolves once it is held there. */
  hold(n: number): { held: Promise<void>; release(): void };
}

/**
 * Wraps a database so its transactions can be held or failed before their commit. Queries
 * outside transactions (the test's own reads) pass straight through.
 *
 * @param db The database.
 * @returns The wrapper and its controls.
 */
export function holdCommits(db: Database): HeldCommits {
  const hooks = new Map<number, (tx: Queryable) => Promise<void>>();
  let transactions = 0;
  const wrapped: Database = {
    kind: db.kind,
    query: (text, params) => db.query(text, params),
    queryText: (text) => db.queryText(text),
    exec: (script) => db.exec(script),
    // One-message transactions have no moment before their commit to hold: passed through.
    queryScript: (script) => db.queryScript(script),
    close: () => db.close(),
    transaction(fn) {
      const n = transactions++;
      return db.transaction(async (tx) => {
        const result = await fn(tx);
        await hooks.get(n)?.(tx);
        return result;
      });
    },
  };
  return {
    db: wrapped,
    beforeCommit(n, hook) {
      hooks.set(n, hook);
    },
    hold(n) {
      const held = deferred();
      const released = deferred();
      hooks.set(n, async () => {
        held.resolve();
        await released.promise;
      });
      return { held: held.promise, release: () => released.resolve() };
    },
  };
}

/** Timers that never fire, counting how many were started. */
export function timersThatNeverFire(): GroupCommitTimers & { started: number } {
  return {
    started: 0,
    set() {
      this.started++;
      return this.started;
    },
    clear() {},
  };
}
