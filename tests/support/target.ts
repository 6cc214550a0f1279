/**
 * Which Beacon the shared suites test: the server's app in process (the default), or, with
 * `BEACON_TEST_TARGET=edge`, the Supabase Edge Function's entry in a process of its own with
 * the edge runtime's permissions, under `/beacon` (see `tests/support/edge_app.ts`).
 *
 * `deno task test:edge` runs the ingestion, JSON API and page suites that way. A case that
 * only a server can have (local accounts, the embedded database, a peer address Beacon sees
 * itself) is declared with {@linkcode serverOnlyTest} and its one-line reason: on the edge
 * it is not registered at all (CI counts an ignored test as a failure, and these are not
 * missing, they do not exist there).
 *
 * @module
 */

/** Whether this run tests the edge entry. */
export const EDGE_TARGET = Deno.env.get("BEACON_TEST_TARGET") === "edge";

/**
 * A test that exists on the server only.
 *
 * @param reason Why the edge has no such case (one line, kept beside the test).
 * @param name The test's name.
 * @param fn The test.
 */
export function serverOnlyTest(
  reason: string,
  name: string,
  fn: (t: Deno.TestContext) => void | Promise<void>,
): void {
  if (EDGE_TARGET) {
    if (!reason) throw new Error(`serverOnlyTest "${name}" needs its reason`);
    return;
  }
  Deno.test(name, fn);
}
