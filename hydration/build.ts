/**
 * Builds the browser bundles: the revive runtime and one entry per island in `islands/`,
 * with the code they share (Preact, signals, Chart.js) split into common chunks, minified,
 * with `deno bundle`. Run by `deno task start` (and `deno task build`).
 *
 * Every file written has a content hash in its name (`deno bundle` names the shared chunks
 * `chunk-<hash>.js`; the entries are renamed here to `<name>-<hash>.js`), so the server can
 * let browsers keep them forever. `manifest.json` maps each entry's plain name
 * (`islands/TimeSeriesChart.js`) to its hashed name and lists every hashed file.
 *
 * @module
 */

/** Options for {@linkcode buildIslands}. */
export interface BuildOptions {
  /** Where the bundles go. @default {"static/_islands" in the repository} */
  outDir?: string;
  /**
   * The folder holding `hydration/revive.ts` and `islands/` (tests point it at fixtures).
   * @default {the repository root}
   */
  root?: string;
}

const ROOT = new URL("../", import.meta.url).pathname;

import { type IslandManifest, MANIFEST } from "./manifest.ts";

export { type IslandManifest, MANIFEST };

/** The first 10 hex digits of the SHA-256 of `bytes`. */
async function contentHash(bytes: Uint8Array): Promise<string> {
  const digest = new Uint8Array(
    await crypto.subtle.digest("SHA-256", bytes as Uint8Array<ArrayBuffer>),
  );
  return [...digest.slice(0, 5)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/** The island files: every PascalCase `.tsx` in `islands/`. */
export async function listIslands(root = ROOT): Promise<string[]> {
  const names: string[] = [];
  for await (const entry of Deno.readDir(`${root}islands`)) {
    const match = /^([A-Z][A-Za-z0-9]*)\.tsx$/.exec(entry.name);
    if (entry.isFile && match) names.push(match[1]);
  }
  return names.sort();
}

/**
 * Reads the manifest of a build, or null when the folder has none (an older build).
 *
 * @param dir The build's folder.
 * @returns The manifest, or null.
 */
export async function readIslandManifest(dir: string): Promise<IslandManifest | null> {
  try {
    return JSON.parse(await Deno.readTextFile(`${dir}/${MANIFEST}`));
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return null;
    throw error;
  }
}

/**
 * Bundles the runtime and every island, with content-hashed names and a manifest.
 *
 * @param options Where to write.
 * @returns The files written, with their sizes in bytes (raw and gzipped).
 */
export async function buildIslands(
  options: BuildOptions = {},
): Promise<Array<{ file: string; bytes: number; gzipBytes: number }>> {
  const root = (options.root ?? ROOT).replace(/\/?$/, "/");
  const outDir = options.outDir ?? `${ROOT}static/_islands`;
  await Deno.remove(outDir, { recursive: true }).catch(() => {});
  const islands = await listIslands(root);
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "bundle",
      "--platform",
      "browser",
      "--format",
      "esm",
      "--minify",
      "--code-splitting",
      "--outdir",
      outDir,
      `${root}hydration/revive.ts`,
      ...islands.map((name) => `${root}islands/${name}.tsx`),
    ],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!out.success) {
    throw new Error(`deno bundle failed:\n${new TextDecoder().decode(out.stderr)}`);
  }
  // deno bundle keeps the entries' folders relative to their common parent. The entries
  // import the chunks by relative path, so renaming an entry in its folder is safe; its
  // hash covers the chunks' names, which are hashes of theirs.
  const manifest: IslandManifest = { entries: {}, files: [] };
  const entries = ["hydration/revive", ...islands.map((name) => `islands/${name}`)];
  for (const entry of entries) {
    const plain = `${entry}.js`;
    const hashed = `${entry}-${await contentHash(await Deno.readFile(`${outDir}/${plain}`))}.js`;
    await Deno.rename(`${outDir}/${plain}`, `${outDir}/${hashed}`);
    manifest.entries[plain] = hashed;
  }
  const files: Array<{ file: string; bytes: number; gzipBytes: number }> = [];
  const walk = async (dir: string, prefix: string) => {
    for await (const entry of Deno.readDir(dir)) {
      if (entry.isDirectory) await walk(`${dir}/${entry.name}`, `${prefix}${entry.name}/`);
      else if (entry.name.endsWith(".js")) {
        const bytes = await Deno.readFile(`${dir}/${entry.name}`);
        const gzip = new Uint8Array(
          await new Response(new Blob([bytes]).stream().pipeThrough(new CompressionStream("gzip")))
            .arrayBuffer(),
        );
        files.push({ file: `${prefix}${entry.name}`, bytes: bytes.length, gzipBytes: gzip.length });
      }
    }
  };
  await walk(outDir, "");
  manifest.files = files.map((f) => f.file).sort();
  await Deno.writeTextFile(`${outDir}/${MANIFEST}`, JSON.stringify(manifest, null, 2) + "\n");
  return files.sort((a, b) => a.file.localeCompare(b.file));
}

if (import.meta.main) {
  const files = await buildIslands();
  // Further folders given get a copy: `deno task build` also fills the Supabase function's
  // static files (supabase/functions/beacon/static/_islands).
  for (const copy of Deno.args) {
    const from = `${ROOT}static/_islands`;
    await Deno.remove(copy, { recursive: true }).catch(() => {});
    const walk = async (dir: string) => {
      await Deno.mkdir(`${copy}${dir}`, { recursive: true });
      for await (const entry of Deno.readDir(`${from}${dir}`)) {
        if (entry.isDirectory) await walk(`${dir}/${entry.name}`);
        else await Deno.copyFile(`${from}${dir}/${entry.name}`, `${copy}${dir}/${entry.name}`);
      }
    };
    await walk("");
    console.error(`copied the bundles to ${copy}`);
  }
  for (const f of files) {
    console.error(
      `built ${f.file}: ${(f.bytes / 1024).toFixed(1)} KB, ${
        (f.gzipBytes / 1024).toFixed(1)
      } KB gzipped`,
    );
  }
}
