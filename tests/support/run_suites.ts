/**
 * `deno task test`: starts the one PostgreSQL 15 cluster the suites share and migrates the
 * template their databases are copied from, while it runs the command given (`deno test -A
 * --parallel` and whatever `deno task test` was given after it); then stops the cluster and
 * exits as the command did. The command gets a folder in `BEACON_TEST_POSTGRES` where the
 * cluster's superuser connection string appears (file `url`) once the template is ready, or
 * why it could not start (file `error`): the cluster starts while `deno test` type-checks.
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
  let prepared: Promise<void> = Promise.resolve();
  const env: Record<string, string> = {};
  const handover = await Deno.makeTempDir({ prefix: "beacon-suites-" });
  if ((await missingPostgres15()).length === 0) {
    // The cluster starts while `deno test` type-checks; suites wait for its URL to appear.
    env[SHARED_CLUSTER_ENV] = handover;
    const started = performance.now();
    prepared = (async () => {
      cluster = await startPostgres15();
      await prepareTemplate(cluster);
      await Deno.writeTextFile(`${handover}/url.partial`, cluster.adminUrl);
      await Deno.rename(`${handover}/url.partial`, `${handover}/url`);
      console.error(
        `PostgreSQL 15 for the suites on port ${cluster.port}, template migrated in ${
          Math.round(performance.now() - started)
        } ms`,
      );
    })().catch((error) =>
      Deno.writeTextFile(`${handover}/error`, error instanceof Error ? error.message : `${error}`)
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
    await prepared;
    await (cluster as Postgres15 | null)?.stop();
    await Deno.remove(handover, { recursive: true });
  }
}

if (import.meta.main) {
  Deno.exit(await runSuites(Deno.args));
}
