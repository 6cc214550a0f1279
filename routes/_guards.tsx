/**
 * Who may pass: pages send strangers to `/login` and non-superusers to a 403 page; the
 * JSON API throws 401 and 403 ({@linkcode ApiError}, answered by the app's `onError`). The
 * viewer is left in `c.var.viewer`.
 *
 * @module
 */
import type { MiddlewareHandler } from "hono";
import type { AppEnv } from "./_deps.ts";
import { csrfToken, currentViewer } from "./_viewer.ts";
import { sendPage } from "./_page.ts";
import { Layout } from "../components/Layout.tsx";
import { ApiError } from "../http/errors.ts";

/** Who passes a guard besides superusers. */
export interface GuardOptions {
  /**
   * Analysts (profiles.is_analyst) pass for reads (GET, HEAD): `read`; for every method (the
   * SQL page's queries and saved queries): `all`. Admin actions stay superusers'.
   * @default {"read"}
   */
  analysts?: "read" | "all";
}

function admits(
  viewer: { superuser: boolean; analyst?: boolean },
  method: string,
  options: GuardOptions,
) {
  if (viewer.superuser) return true;
  if (!viewer.analyst) return false;
  return (options.analysts ?? "read") === "all" || method === "GET" || method === "HEAD";
}

/** For pages: signed in as a superuser (or an analyst, to read), or redirected / refused with a page. */
export function requireSuperuserPage(options: GuardOptions = {}): MiddlewareHandler<AppEnv> {
  return async function superuserPage(c, next) {
    const viewer = await currentViewer(c);
    if (!viewer) {
      const url = new URL(c.req.url);
      return c.redirect(`/login?next=${encodeURIComponent(url.pathname + url.search)}`, 302);
    }
    c.set("viewer", viewer);
    if (!admits(viewer, c.req.method, options)) {
      return sendPage(
        c,
        <Layout
          title="Not allowed"
          email={viewer.claims.email ?? viewer.claims.sub}
          csrf={csrfToken(c)}
          nav={false}
        >
          <div class="card">
            <h1>You are signed in, but not as a superuser</h1>
            <p>
              Beacon's analytics are for superusers only. Ask an administrator to mark your account
              ({viewer.claims.email ?? viewer.claims.sub}) as a superuser, or sign out and sign in
              with another account.
            </p>
          </div>
        </Layout>,
        403,
      );
    }
    await next();
  };
}

/** For the JSON API: 401 without a valid session or token, 403 for non-superusers (analysts read). */
export function requireSuperuserApi(options: GuardOptions = {}): MiddlewareHandler<AppEnv> {
  return async function superuserApi(c, next) {
    const viewer = await currentViewer(c);
    if (!viewer) {
      throw new ApiError(
        401,
        "unauthorized",
        "sign in first, or send Authorization: Bearer <access token>",
      );
    }
    if (!admits(viewer, c.req.method, options)) {
      throw new ApiError(403, "forbidden", "only superusers and analysts may read analytics");
    }
    c.set("viewer", viewer);
    await next();
  };
}
