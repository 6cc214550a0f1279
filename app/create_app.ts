/**
 * Builds Beacon's Hono app: request ids and logs, security headers, the routes, the island
 * bundles, and the one `onError` that answers every error in Beacon's JSON style.
 *
 * @module
 */
import { Hono } from "hono";
import type { AppDeps, AppEnv } from "../routes/_deps.ts";
import { errorResponse } from "../http/error_response.ts";
import events from "../routes/api/events.ts";
import health from "../routes/api/health.ts";
import analyticsApi from "../routes/api/analytics.ts";
import personReportsApi from "../routes/api/retention.ts";
import funnelApi from "../routes/api/funnel.ts";
import revenueApi from "../routes/api/revenue.ts";
import trendApi from "../routes/api/trend.ts";
import posthog from "../routes/posthog/mod.ts";
import pluginsApi from "../routes/api/plugins.ts";
import login from "../routes/login.tsx";
import pages from "../routes/analytics.tsx";
import personReportPages from "../routes/retention.tsx";
import funnelPages from "../routes/funnels.tsx";
import revenuePages from "../routes/revenue.tsx";
import trendPages from "../routes/trends.tsx";
import sqlApi from "../routes/api/sql.ts";
import sqlPage from "../routes/sql.tsx";
import { securityHeaders } from "../http/security_headers.ts";
import { islandAssets } from "../hydration/assets.ts";
import { pagesPointer, servedUnder } from "../http/base_path.ts";
import drain from "../routes/api/drain.ts";

const REQUEST_ID = /^[\w.:-]{1,100}$/;

/**
 * Creates the app. Nothing here reads the environment: everything comes in `deps`.
 *
 * @param deps The database, configuration, logger and the rest.
 * @returns The app (under `config.site`'s path prefix, when set); serve it with
 *   `Deno.serve(app.fetch)` or call `app.request(...)`.
 */
export function createApp(deps: AppDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();

  app.use(async function requestContext(c, next) {
    const given = c.req.header("x-request-id");
    const requestId = given && REQUEST_ID.test(given) ? given : crypto.randomUUID();
    c.set("deps", deps);
    c.set("requestId", requestId);
    const started = performance.now();
    await next();
    c.header("x-request-id", requestId);
    deps.log.info("request", {
      request_id: requestId,
      method: c.req.method,
      path: c.req.path,
      status: c.res.status,
      duration_ms: Math.round((performance.now() - started) * 10) / 10,
    });
  });
  app.use(securityHeaders({ trustedProxies: deps.config.trustedProxies }));
  app.use(pagesPointer(deps.config.site));
  app.route("/api/v1/plugins/drain", drain);

  app.route("/api/v1/events", events);
  app.route("/api/v1/health", health);
  app.route("/", posthog);
  app.route("/api/v1/plugins", pluginsApi);
  app.route("/api/v1/analytics", funnelApi);
  app.route("/api/v1/analytics", revenueApi);
  app.route("/api/v1/analytics", trendApi);
  app.route("/api/v1/analytics", analyticsApi);
  app.route("/api/v1/analytics", personReportsApi);
  app.route("/api/v1/sql", sqlApi);
  app.route("/", sqlPage);
  app.route("/", login);
  app.route("/", funnelPages);
  app.route("/", revenuePages);
  app.route("/", trendPages);
  app.route("/", pages);
  app.route("/", personReportPages);
  app.get("/", (c) => c.redirect("/analytics", 302));
  app.get("/_islands/*", async function islandBundle(c) {
    const path = c.req.path.slice("/_islands/".length);
    if (!/^[\w-]+(\/[\w-]+)*\.js$/.test(path)) return c.notFound();
    return await islandAssets(deps.islandsDir).respond(path, c.req.raw.headers) ?? c.notFound();
  });

  app.notFound((c) =>
    c.json({
      error: "not_found",
      message: `no route for ${c.req.method} ${c.req.path}`,
    }, 404)
  );
  app.onError(errorResponse(deps.log));
  return servedUnder(app, deps.config.site);
}
