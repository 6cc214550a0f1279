/**
 * A whole Beacon over HTTP, started as `main.ts` starts it, for suites that need real
 * sockets: on a free port, an in-memory embedded database, no demo data, no nightly job and
 * no log, unless the configuration says otherwise.
 *
 * @module
 */
import { type RunningBeacon, startBeacon } from "../../app/start.ts";
import { type BeaconConfigInput, defineConfig } from "../../config/mod.ts";
import { silentLogger } from "../../log/mod.ts";

/**
 * Starts a Beacon for a test. Always `shutdown()` it (in a `finally`).
 *
 * @param config Configuration over the test defaults.
 * @returns The running Beacon.
 *
 * @example
 * ```ts
 * const beacon = await startTestBeacon({ ingestKey: "bk_example_key_0123456789" });
 * try {
 *   assert.equal((await fetch(`${beacon.url}/api/v1/health`)).status, 200);
 * } finally {
 *   await beacon.shutdown();
 * }
 * ```
 */
export function startTestBeacon(config: BeaconConfigInput): Promise<RunningBeacon> {
  return startBeacon(
    defineConfig({
      port: 0,
      hostname: "127.0.0.1",
      database: { kind: "embedded", dataDir: "memory://" },
      seedDemoData: false,
      nightly: "never",
      ...config,
    }),
    { log: silentLogger, banner: () => {} },
  );
}

/**
 * Signs in through the form, as a browser does: fetches `/login` for its CSRF cookie and
 * token, then posts the form from Beacon's own origin. Redirects are not followed.
 *
 * @param url Beacon's URL.
 * @param form The email, password and where to go next.
 * @returns The answer to the post (303 and a session cookie when it worked).
 */
export async function signInThroughForm(
  url: string,
  form: { email: string; password: string; next: string },
): Promise<Response> {
  const page = await fetch(`${url}/login`);
  const csrfCookie = page.headers.getSetCookie()[0].split(";")[0];
  const csrf = /name="csrf" value="([^"]+)"/.exec(await page.text())![1];
  return fetch(`${url}/login`, {
    method: "POST",
    redirect: "manual",
    headers: {
      "content-type": "application/x-www-form-urlencoded",
      cookie: csrfCookie,
      origin: url,
    },
    body: new URLSearchParams({ csrf, ...form }),
  });
}
