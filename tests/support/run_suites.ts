/**
 * `deno task test`: starts the one PostgreSQL 15 cluster the suites share, migrates the
 * template their databases are copied from, runs the command given (`deno test -A
 * --parallel` and whatever `deno task test` was given after it) with the cluster's
 * connection string in `BEACON_TEST_POSTGRES`, then stops the cluster and exits as the
 * command did.
 *
 * Why a wrapper: `deno test --parallel` runs the test files in processes of their own, and
 * none of them knows whether it is the last; the process around them does. The cluster is
 * stopped after the run, also when tests fail or the run is interrupted (SIGINT, SIGTERM);
 * only a `kill -9` of this process leaves it running (its files are in a `beacon-pg15-*`
 * temporary directory).
 *
 * Without PostgreSQL 15's packages no cluster is started: the suites that need it are then
 * skipped with the install command, or fail under `CI=true`, as each decides.
 *
 * @example
 * ```sh
 * deno run -A tests/support/run_suites.ts deno test -A --parallel --junit-path=out.xml
 * ```
 *
 * @module
 */
import { prepareTemplate, SHARED_CLUSTER_ENV } from "./database.ts";
import { missingPostgres15, type Postgres15, startPostgres15 } from "./postgres15.ts";

/**
 * Runs a command with the shared cluster around it.
 *
 * @param command The command and its arguments; a leading `deno` is this Deno.
 * @returns The command's exit code.
 */
export async function runSuites(command: string[]): Promise<number> {
  const [program, ...args] = command;
  if (!program) throw new Error("usage: run_suites.ts deno test [options] [files]");
  let cluster: Postgres15 | null = null;
  const env: Record<string, string> = {};
  if ((await missingPostgres15()).length === 0) {
    const started = performance.now();
    cluster = await startPostgres15();
    try {
      await prepareTemplate(cluster);
    } catch (error) {
      await cluster.stop();
      throw error;
    }
    env[SHARED_CLUSTER_ENV] = cluster.adminUrl;
    console.error(
      `PostgreSQL 15 for the suites on port ${cluster.port}, template migrated in ${
        Math.round(performance.now() - started)
      } ms`,
    );
  }
  const child = new Deno.Command(program === "deno" ? Deno.execPath() : program, {
    args,
    env,
    stdin: "inherit",
    stdout: "inherit",
    stderr: "inherit",
  }).spawn();
  // An interrupt reaches the tests too (one process group); a SIGTERM sent to this process
  // alone is passed on. Either way the cluster is stopped once the tests have ended.
  const forward = (signal: Deno.Signal) => () => {
    try {
      child.kill(signal);
    } catch {
      // already ended
    }
  };
  const listeners = (["SIGINT", "SIGTERM"] as const).map((signal) => {
    const listener = signal === "SIGINT" ? () => {} : forward(signal);
    Deno.addSignalListener(signal, listener);
    return [signal, listener] as const;
  });
  try {
    return (await child.status).code; // 128 + the signal's number when one ended it
  } finally {
    for (const [signal, listener] of listeners) Deno.removeSignalListener(signal, listener);
    await cluster?.stop();
  }
}

if (import.meta.main) {
  Deno.exit(await runSuites(Deno.args));
}
