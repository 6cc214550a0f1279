/**
 * Serving the app under a path prefix, as an edge platform hands requests over: Supabase's
 * gateway passes `https://<ref>.supabase.co/functions/v1/beacon/analytics` to the function
 * as `/beacon/analytics`. The app itself keeps its own paths (`/analytics`): requests are
 * stripped of {@linkcode SiteConfig.basePath} on the way in, and on the way out every
 * address the browser will follow gets {@linkcode SiteConfig.publicPath} in front: the
 * `Location` of redirects, the `Path` of cookies, and the `href`, `action`, `src` and
 * `formaction` attributes of HTML pages (the islands' module script is given its base by
 * `routes/_page.ts`). The Content-Security-Policy needs nothing: `'self'` is an origin.
 *
 * Also here: the plain-text pointer that stands in for pages where a platform will not
 * serve HTML (Supabase's default domain rewrites `text/html` to `text/plain`).
 *
 * @module
 */
import { type Env, Hono, type MiddlewareHandler } from "hono";

/** Where the app is served, and whether it serves its pages. */
export interface SiteConfig {
  /**
   * The prefix requests arrive with (`/beacon` for a Supabase function named `beacon`),
   * stripped before routing; `""` when the app owns the whole host.
   */
  basePath: string;
  /**
   * The prefix browsers see (`/functions/v1/beacon` on Supabase), put in front of every
   * link, redirect and cookie path; `""` when the app owns the whole host.
   */
  publicPath: string;
  /** Whether the dashboard pages are served; otherwise they answer a plain-text pointer. */
  pages: boolean;
  /** Where the dashboard lives when it is not served here (for the pointer). */
  dashboardUrl?: string;
}

/** The site of a server that owns its host: no prefix, pages on. */
export const ROOT_SITE: SiteConfig = { basePath: "", publicPath: "", pages: true };

const PREFIX = /^(\/[A-Za-z0-9._~-]+)*$/;

/**
 * Whether a path prefix is well formed: empty, or `/segment[/segment...]` without a
 * trailing slash.
 *
 * @param prefix The prefix.
 * @returns Whether it may be used as `basePath` or `publicPath`.
 */
export function isPathPrefix(prefix: string): boolean {
  return PREFIX.test(prefix);
}

const LINK_ATTRIBUTE = /(\s(?:href|action|src|formaction)=")\/(?!\/)/g;

/**
 * Prefixes a browser-visible path that starts with one `/`; leaves anything else alone.
 *
 * @param location A `Location` value, link or cookie path.
 * @param publicPath The prefix browsers see.
 * @returns The location under the prefix.
 */
export function publicLocation(location: string, publicPath: string): string {
  return location.startsWith("/") && !location.startsWith("//")
    ? `${publicPath}${location}`
    : location;
}

async function underPublicPath(response: Response, publicPath: string): Promise<Response> {
  const headers = new Headers(response.headers);
  const location = headers.get("location");
  if (location) headers.set("location", publicLocation(location, publicPath));
  const cookies = headers.getSetCookie();
  if (cookies.length > 0) {
    headers.delete("set-cookie");
    for (const cookie of cookies) {
      headers.append("set-cookie", cookie.replace(/;\s*Path=\/(?=;|$)/i, `; Path=${publicPath}`));
    }
  }
  if (!/^text\/html\b/i.test(headers.get("content-type") ?? "") || !response.body) {
    return new Response(response.body, { status: response.status, headers });
  }
  const html = (await response.text()).replace(LINK_ATTRIBUTE, `$1${publicPath}/`);
  headers.delete("content-length");
  return new Response(html, { status: response.status, headers });
}

/**
 * Serves `app` under `site.basePath`: requests outside it get a JSON 404, requests inside it
 * reach the app without the prefix, and the answers' redirects, cookie paths and page links
 * are put under `site.publicPath`. With both prefixes empty, the app itself is returned.
 *
 * @param app The app, routing its own paths (`/analytics`, `/api/v1/events`).
 * @param site The prefixes.
 * @returns An app answering the platform's requests.
 *
 * @example On Supabase, a function named `beacon`
 * ```ts
 * const served = servedUnder(app, {
 *   basePath: "/beacon", publicPath: "/functions/v1/beacon", pages: false,
 * });
 * Deno.serve(served.fetch);
 * ```
 */
export function servedUnder<E extends Env>(app: Hono<E>, site: SiteConfig): Hono<E> {
  const { basePath, publicPath } = site;
  if (!basePath && !publicPath) return app;
  const outer = new Hono<E>();
  outer.all("*", async function underBasePath(c) {
    const url = new URL(c.req.url);
    const inside = url.pathname === basePath || url.pathname.startsWith(`${basePath}/`);
    if (!inside) {
      return c.json({
        error: "not_found",
        message: `no route for ${c.req.method} ${url.pathname}: Beacon is served under ${
          basePath || "/"
        }`,
      }, 404);
    }
    url.pathname = url.pathname.slice(basePath.length) || "/";
    const response = await app.fetch(new Request(url, c.req.raw), c.env);
    return underPublicPath(response, publicPath);
  });
  return outer;
}

/**
 * The pointer page routes answer where pages are off: plain text saying what this
 * deployment serves and where the dashboard is. For every path but `/api/...` and
 * `/_islands/...`; a response that would still be HTML is turned into the pointer too.
 *
 * @param site Where the app is served and where the dashboard lives.
 * @returns The middleware (a no-op when pages are on).
 */
export function pagesPointer(site: SiteConfig): MiddlewareHandler {
  const where = site.dashboardUrl
    ? `The dashboard is at ${site.dashboardUrl}`
    : "Open the dashboard where Beacon serves pages: on this function with a custom domain " +
      "(BEACON_SERVE_PAGES=true), on Deno Deploy, or on Beacon's own server";
  const text = "Beacon: this deployment serves ingestion " +
    `(POST ${site.publicPath}/api/v1/events) and the JSON API (${site.publicPath}/api/v1/...), ` +
    "not the dashboard's pages: Supabase serves text/html from functions only on a custom " +
    `domain. ${where}.\n`;
  const pointer = (status: number) =>
    new Response(text, {
      status,
      headers: { "content-type": "text/plain; charset=utf-8", "cache-control": "no-store" },
    });
  return async function pagesPointerMiddleware(c, next) {
    if (site.pages) return await next();
    const path = c.req.path;
    if (!path.startsWith("/api/") && !path.startsWith("/_islands/")) {
      return pointer(c.req.method === "GET" || c.req.method === "HEAD" ? 200 : 404);
    }
    await next();
    if (/^text\/html\b/i.test(c.res.headers.get("content-type") ?? "")) {
      c.res = pointer(c.res.status);
    }
  };
}
