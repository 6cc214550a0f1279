/**
 * Serving the island bundles: each file compressed once (brotli and gzip, kept in memory)
 * and sent in the encoding the browser accepts, with `vary: accept-encoding` and an ETag.
 * Files the build named by content hash (listed in its manifest) are sent as immutable;
 * anything else must be revalidated.
 *
 * @module
 */
import { brotliCompressSync, constants, gzipSync } from "node:zlib";
import { type IslandManifest, MANIFEST } from "./manifest.ts";

/** How long a content-hashed file may be kept: a year, never revalidated. */
export const IMMUTABLE = "public, max-age=31536000, immutable";

/** The island bundles of one build folder. */
export interface IslandAssets {
  /** The manifest's entries (plain name → hashed name); empty without a manifest. */
  entries(): Record<string, string>;
  /**
   * Answers a request for one file.
   *
   * @param path The file, relative to the folder (already checked to be a plain `.js` path).
   * @param headers The request's headers (`accept-encoding`, `if-none-match`).
   * @returns The file, a 304, or null when there is no such file.
   */
  respond(path: string, headers: Headers): Promise<Response | null>;
}

interface Encoded {
  identity: Uint8Array;
  br: Uint8Array;
  gzip: Uint8Array;
  hash: string;
}

type Encoding = "br" | "gzip" | "identity";

/**
 * The encoding to send for an `Accept-Encoding` header: brotli, else gzip, else none.
 *
 * @param header The request's `Accept-Encoding`, if any.
 * @returns The encoding.
 */
export function chooseEncoding(header: string | null | undefined): Encoding {
  const accepted = new Map<string, number>();
  for (const part of (header ?? "").toLowerCase().split(",")) {
    const [name, ...params] = part.trim().split(";");
    if (!name) continue;
    const q = params.map((p) => /^\s*q=([\d.]+)\s*$/.exec(p)).find(Boolean);
    accepted.set(name.trim(), q ? Number(q[1]) : 1);
  }
  const ok = (name: string) => (accepted.get(name) ?? accepted.get("*") ?? 0) > 0;
  if (ok("br")) return "br";
  if (ok("gzip")) return "gzip";
  return "identity";
}

async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", bytes as Uint8Array<ArrayBuffer>);
  return [...new Uint8Array(digest).slice(0, 12)].map((b) => b.toString(16).padStart(2, "0"))
    .join("");
}

async function encode(file: string): Promise<Encoded> {
  const identity = await Deno.readFile(file);
  return {
    identity,
    br: brotliCompressSync(identity, {
      params: {
        [constants.BROTLI_PARAM_QUALITY]: 11,
        [constants.BROTLI_PARAM_SIZE_HINT]: identity.length,
      },
    }),
    gzip: gzipSync(identity, { level: 9 }),
    hash: await sha256Hex(identity),
  };
}

function createIslandAssets(dir: string): IslandAssets {
  let manifest: IslandManifest | null = null;
  const files = new Map<string, Promise<Encoded>>();
  const readManifest = (): IslandManifest | null => {
    if (manifest) return manifest;
    try {
      manifest = JSON.parse(Deno.readTextFileSync(`${dir}/${MANIFEST}`)) as IslandManifest;
    } catch {
      // No build yet, or an older one: plain names, revalidated. Looked for again next time.
    }
    return manifest;
  };
  return {
    entries: () => readManifest()?.entries ?? {},
    async respond(path, headers) {
      let pending = files.get(path);
      if (!pending) {
        pending = encode(`${dir}/${path}`);
        files.set(path, pending);
        pending.catch(() => files.delete(path));
      }
      let encoded: Encoded;
      try {
        encoded = await pending;
      } catch (error) {
        if (error instanceof Deno.errors.NotFound || error instanceof Deno.errors.IsADirectory) {
          return null;
        }
        throw error;
      }
      const encoding = chooseEncoding(headers.get("accept-encoding"));
      const etag = `"${encoded.hash}${encoding === "identity" ? "" : `-${encoding}`}"`;
      const common: Record<string, string> = {
        "cache-control": readManifest()?.files.includes(path) ? IMMUTABLE : "no-cache",
        "vary": "accept-encoding",
        "etag": etag,
      };
      const given = headers.get("if-none-match");
      if (given && given.split(",").some((t) => t.trim().replace(/^W\//, "") === etag)) {
        return new Response(null, { status: 304, headers: common });
      }
      const body = encoded[encoding];
      return new Response(body as Uint8Array<ArrayBuffer>, {
        headers: {
          ...common,
          "content-type": "text/javascript; charset=utf-8",
          "content-length": String(body.length),
          ...(encoding === "identity" ? {} : { "content-encoding": encoding }),
        },
      });
    },
  };
}

const stores = new Map<string, IslandAssets>();

/**
 * The island bundles of a build folder, shared by every app serving that folder.
 *
 * @param dir The folder `hydration/build.ts` wrote.
 * @returns Its assets.
 *
 * @example
 * ```ts
 * const res = await islandAssets("static/_islands").respond(
 *   "chunk-PMROFYGB.js",
 *   new Headers({ "accept-encoding": "gzip, br" }),
 * );
 * ```
 */
export function islandAssets(dir: string): IslandAssets {
  let store = stores.get(dir);
  if (!store) {
    store = createIslandAssets(dir);
    stores.set(dir, store);
  }
  return store;
}
