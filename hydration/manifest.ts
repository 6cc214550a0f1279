/**
 * The island build's manifest: its file name and shape, shared by the build
 * (`build.ts`, which runs `deno bundle`) and the server of the bundles (`assets.ts`, which
 * must not import the build: the edge has no subprocesses).
 *
 * @module
 */

/** The name of the manifest the build writes beside the bundles. */
export const MANIFEST = "manifest.json";

/** What `manifest.json` holds. */
export interface IslandManifest {
  /** Plain entry name (`hydration/revive.js`) → hashed name (`hydration/revive-<hash>.js`). */
  entries: Record<string, string>;
  /** Every file of the build, by hashed name: safe to cache for ever. */
  files: string[];
}
