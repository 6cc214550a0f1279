/**
 * Sends a server-rendered page: the HTML, with the scripts that hydrate its islands.
 *
 * @module
 */
import type { Context } from "hono";
import type { VNode } from "preact";
import { islandScripts, renderWithIslands } from "../hydration/render.ts";
import { islandAssets } from "../hydration/assets.ts";
import { pageNonce } from "../http/security_headers.ts";

/**
 * Renders `page` and answers with it; its inline scripts and styles carry the request's CSP
 * nonce.
 *
 * @param c The request context.
 * @param page The page (a `Layout`).
 * @param status The HTTP status. @default {200}
 * @returns The response.
 */
export function sendPage(
  c: Context,
  page: VNode,
  status: 200 | 401 | 403 | 404 | 400 | 429 = 200,
): Response {
  // The Content-Security-Policy's nonce for this response.
  const nonce = pageNonce(c);
  const { html, islands } = renderWithIslands(page, { nonce });
  const dir: string | undefined = c.get("deps")?.islandsDir;
  const scripts = islandScripts(
    islands,
    `${c.get("deps")?.config.site.publicPath ?? ""}/_islands`,
    {
      nonce,
      entries: dir ? islandAssets(dir).entries() : {},
    },
  );
  const body = scripts ? html.replace("</body>", `${scripts}</body>`) : html;
  c.header("cache-control", "no-store");
  return c.html(`<!DOCTYPE html>${body}`, status);
}
