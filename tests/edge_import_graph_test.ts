/**
 * A static check of the edge entries' import graphs (`deno info --json`): nothing under the
 * Supabase function or the Deno Deploy entry reaches the embedded database (PGlite),
 * subprocesses, FFI, or writes to the filesystem; the only file reads are of the entry's
 * own bundles. The same check run on the server's entry finds what it must (PGlite and the
 * data directory's lock file), so it can fail.
 */
import assert from "node:assert/strict";

const ROOT = new URL("../", import.meta.url);
const ENTRIES = {
  supabase: new URL("supabase/functions/beacon/index.ts", ROOT).pathname,
  denoDeploy: new URL("deploy.ts", ROOT).pathname,
  server: new URL("main.ts", ROOT).pathname,
};

/** What only a server may do, as it appears in source. */
const SERVER_ONLY: Array<[string, RegExp]> = [
  ["a subprocess", /\bDeno\.(Command|run)\b|node:child_process/],
  ["FFI", /\bDeno\.dlopen\b/],
  [
    "a filesystem write",
    /\bDeno\.(writeFile|writeTextFile|mkdir|open|openSync|create|remove|rename|copyFile|makeTempDir|makeTempFile|truncate|symlink|chmod|chown|link)\b/,
  ],
  ["node's fs", /["']node:fs(\/promises)?["']/],
  ["the embedded database", /@electric-sql\/pglite/],
];

/** Modules allowed to read files, and why. */
const READS_ALLOWED = new Set(["hydration/assets.ts"]); // the built bundles (config.islandsDir)

interface Finding {
  module: string;
  what: string;
}

async function findings(entry: string): Promise<Finding[]> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", "--config", new URL("deno.json", ROOT).pathname, entry],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.ok(out.success, new TextDecoder().decode(out.stderr));
  const graph = JSON.parse(new TextDecoder().decode(out.stdout)) as {
    modules: Array<{ specifier: string; local?: string; kind: string; npmPackage?: string }>;
  };
  const found: Finding[] = [];
  for (const module of graph.modules) {
    if (module.npmPackage?.startsWith("@electric-sql/pglite")) {
      found.push({ module: module.specifier, what: "the embedded database" });
    }
    if (/^node:(child_process|fs|fs\/promises|worker_threads)$/.test(module.specifier)) {
      found.push({ module: module.specifier, what: "a server-only node module" });
    }
    if (!module.local || module.kind !== "esm") continue;
    const name = module.local.slice(ROOT.pathname.length);
    const source = await Deno.readTextFile(module.local);
    // Only code counts: drop comments (JSDoc examples mention forbidden calls).
    const code = source.replace(/\/\*[\s\S]*?\*\//g, "").replace(/^\s*\/\/.*$/gm, "");
    for (const [what, pattern] of SERVER_ONLY) {
      if (pattern.test(code)) found.push({ module: name, what });
    }
    if (/\bDeno\.(readFile|readTextFile|readDir|readFileSync|readTextFileSync)\b/.test(code)) {
      if (!READS_ALLOWED.has(name)) found.push({ module: name, what: "a file read" });
    }
  }
  return found;
}

Deno.test("nothing the Supabase function imports touches PGlite, subprocesses or the disk", async () => {
  assert.deepEqual(await findings(ENTRIES.supabase), []);
});

Deno.test("nothing the Deno Deploy entry imports touches PGlite, subprocesses or the disk", async () => {
  assert.deepEqual(await findings(ENTRIES.denoDeploy), []);
});

Deno.test("the import-graph check finds the server entry's PGlite and its lock file", async () => {
  const found = await findings(ENTRIES.server);
  const has = (module: string, what: string) =>
    found.some((f) => f.module.includes(module) && f.what === what);
  assert.ok(has("pglite", "the embedded database"), JSON.stringify(found));
  assert.ok(has("database/lock.ts", "a filesystem write"), JSON.stringify(found));
});

Deno.test("the function's deno.json pins every package it imports at the project's versions", async () => {
  const read = async (path: string) =>
    JSON.parse(await Deno.readTextFile(new URL(path, ROOT))) as {
      imports: Record<string, string>;
      compilerOptions: unknown;
    };
  const project = await read("deno.json");
  const fn = await read("supabase/functions/beacon/deno.json");
  for (const [name, target] of Object.entries(fn.imports)) {
    assert.equal(target, project.imports[name], name);
  }
  assert.deepEqual(fn.compilerOptions, project.compilerOptions);
  const config = new URL("supabase/functions/beacon/deno.json", ROOT).pathname;
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", "--config", config, ENTRIES.supabase],
    stdout: "piped",
  }).output();
  const graph = JSON.parse(new TextDecoder().decode(out.stdout)) as {
    modules: Array<{ dependencies?: Array<{ code?: { error?: string } }> }>;
  };
  const unresolved = graph.modules.flatMap((m) => m.dependencies ?? [])
    .filter((d) => d.code?.error).map((d) => d.code!.error);
  assert.deepEqual(unresolved, [], "everything resolves with the function's own deno.json");
});
