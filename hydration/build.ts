/**
 * Builds the browser bundles: the revive runtime and one entry per island in `islands/`,
 * with the code they share (Preact, signals, Chart.js) split into common chunks, minified,
 * with `deno bundle`. Run by `deno task start` (and `deno task build`).
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
 * Bundles the runtime and every island.
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
  // deno bundle keeps the entries' folders relative to their common parent.
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
  return files.sort((a, b) => a.file.localeCompare(b.file));
}

if (import.meta.main) {
  const files = await buildIslands();
  for (const f of files) {
    console.error(
      `built ${f.file}: ${(f.bytes / 1024).toFixed(1)} KB, ${
        (f.gzipBytes / 1024).toFixed(1)
      } KB gzipped`,
    );
  }
}
