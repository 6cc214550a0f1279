/**
 * Small helpers the suites share: waiting for a condition, and running one list of steps on
 * several databases.
 *
 * @module
 */

/** Options for {@linkcode waitFor}. */
export interface WaitForOptions {
  /**
   * How long to wait before failing.
   *
   * @default {5000}
   */
  timeoutMs?: number;
  /**
   * How long to pause between two checks.
   *
   * @default {20}
   */
  intervalMs?: number;
}

/**
 * Checks `check` until it says yes; fails with `timed out waiting for <what>` when the time
 * runs out.
 *
 * @param what What is awaited, as the error message should name it.
 * @param check The condition.
 * @param options How long to wait, how often to check.
 *
 * @example
 * ```ts
 * await waitFor("150 events", () => received.length >= 150);
 * ```
 */
export async function waitFor(
  what: string,
  check: () => boolean | Promise<boolean>,
  options: WaitForOptions = {},
): Promise<void> {
  const { timeoutMs = 5000, intervalMs = 20 } = options;
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, intervalMs));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** Named steps, run in the order written; each may rely on what the ones before it did. */
export type Steps = Record<string, () => void | Promise<void>>;

/**
 * Runs each step as a `t.step` of the test, in order, so that the same list runs on PGlite
 * and on PostgreSQL 15 from one place.
 *
 * @param t The running test.
 * @param steps The steps.
 *
 * @example
 * ```ts
 * const steps = (db: Database): Steps => ({ "events arrive in order": () => inOrder(db) });
 * Deno.test("on PGlite", async (t) => await runSteps(t, steps(await openMigratedPglite())));
 * ```
 */
export async function runSteps(t: Deno.TestContext, steps: Steps): Promise<void> {
  for (const [name, fn] of Object.entries(steps)) {
    await t.step(name, fn);
  }
}
