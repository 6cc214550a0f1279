/**
 * The PostHog-compatible endpoints, so posthog-js and posthog-node work with
 * `api_host`/`host` set to Beacon: capture ({@linkcode capture}) and the "nothing enabled"
 * answers (`remote_config.ts`). Browsers on any origin may call them: preflights succeed,
 * answers carry `Access-Control-Allow-Origin: *` and credentials are never needed. Mount at
 * `/`: every route and the CORS middleware name their own paths.
 *
 * @module
 */
import { Hono, type MiddlewareHandler } from "hono";
import type { AppEnv } from "../_deps.ts";
import { capture, CAPTURE_PATHS } from "./capture.ts";
import { configScript, EMPTY_LISTS, noFlags, nothingEnabledConfig } from "./remote_config.ts";

const FLAG_PATHS = ["/flags", "/flags/", "/decide", "/decide/"];
const CONFIG_PATHS = ["/array/:token/config", "/array/:token/config.js"];
const LIST_PATHS = Object.keys(EMPTY_LISTS).flatMap((p) => [p, `${p}/`]);
const HEADER_LIST = /^[\w-]+(\s*,\s*[\w-]+)*$/;

/**
 * CORS for browsers on other origins, without credentials: answers a preflight itself,
 * and lets every answer (errors included) be read.
 */
export function postHogCors(): MiddlewareHandler<AppEnv> {
  return async function cors(c, next) {
    if (c.req.method === "OPTIONS") {
      const asked = c.req.header("access-control-request-headers") ?? "";
      return new Response(null, {
        status: 204,
        headers: {
          "access-control-allow-origin": "*",
          "access-control-allow-methods": "GET, POST, OPTIONS",
          "access-control-allow-headers": HEADER_LIST.test(asked) ? asked : "content-type",
          "access-control-max-age": "86400",
        },
      });
    }
    await next();
    c.res.headers.set("access-control-allow-origin", "*");
    // sendBeacon's requests are no-cors: their answer is blocked unless it may cross origins.
    c.res.headers.set("cross-origin-resource-policy", "cross-origin");
    c.res.headers.set("access-control-expose-headers", "retry-after");
  };
}

const posthog = new Hono<AppEnv>();
for (const path of [...CAPTURE_PATHS, ...FLAG_PATHS, ...CONFIG_PATHS, ...LIST_PATHS]) {
  posthog.use(path, postHogCors());
}

posthog.on(["GET", "POST"], CAPTURE_PATHS, capture);

posthog.on(["GET", "POST"], FLAG_PATHS, (c) => {
  const token = c.req.query("token") ?? c.req.query("api_key") ?? "";
  return c.json(noFlags(token));
});

posthog.get("/array/:token/config", (c) => c.json(nothingEnabledConfig(c.req.param("token"))));
posthog.get("/array/:token/config.js", (c) => {
  c.header("content-type", "application/javascript; charset=utf-8");
  return c.body(configScript(c.req.param("token")));
});

for (const [path, answer] of Object.entries(EMPTY_LISTS)) {
  posthog.get(path, (c) => c.json(answer));
  posthog.get(`${path}/`, (c) => c.json(answer));
}

export default posthog;
