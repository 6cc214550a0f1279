/**
 * posthog-js's ready-made browser bundle from its npm package (the version pinned in
 * deno.json), found in Deno's npm cache: the browser suites serve it to a test page, so
 * nothing is fetched from the internet.
 *
 * @module
 */

/** The pinned posthog-js version, read from deno.json's imports. */
export async function postHogJsVersion(): Promise<string> {
  const config = JSON.parse(
    await Deno.readTextFile(new URL("../../deno.json", import.meta.url)),
  );
  return /@([\d.]+)$/.exec(config.imports["posthog-js"])![1];
}

/**
 * Reads `dist/array.full.js` of the pinned posthog-js (caching the package first).
 *
 * @returns The bundle's text and its version.
 */
export async function postHogJsBundle(): Promise<{ version: string; script: string }> {
  const version = await postHogJsVersion();
  const cached = await new Deno.Command(Deno.execPath(), {
    args: ["cache", `npm:posthog-js@${version}`],
    stdout: "null",
    stderr: "piped",
  }).output();
  if (!cached.success) {
    throw new Error(
      `deno cache npm:posthog-js@${version}: ${new TextDecoder().decode(cached.stderr)}`,
    );
  }
  const info = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json"],
    stdout: "piped",
    stderr: "null",
  }).output();
  const { npmCache } = JSON.parse(new TextDecoder().decode(info.stdout)) as { npmCache: string };
  const path = `${npmCache}/registry.npmjs.org/posthog-js/${version}/dist/array.full.js`;
  return { version, script: await Deno.readTextFile(path) };
}
