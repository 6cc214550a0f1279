/**
 * Security headers on every response (pages, the JSON API, bundles, errors), with
 * `hono/secure-headers`: a Content-Security-Policy that runs only scripts from this site or
 * carrying the request's nonce (`c.var.secureHeadersNonce`, handed to the inline scripts by
 * `routes/_page.ts`), no framing, `nosniff`, a same-origin referrer, and HSTS when the
 * request came over HTTPS (directly, or from a trusted proxy that says so).
 *
 * @module
 */
import type { MiddlewareHandler } from "hono";
import { NONCE, secureHeaders } from "hono/secure-headers";
import { isHttps } from "./client_address.ts";

/** The HSTS header sent over HTTPS: one year, subdomains included. */
export const HSTS = "max-age=31536000; includeSubDomains";

/** Options for {@linkcode securityHeaders}. */
export interface SecurityHeadersOptions {
  /**
   * Reverse proxies (IP addresses, CIDR ranges) whose `X-Forwarded-Proto: https` counts as
   * HTTPS for HSTS. @default {[]}
   */
  trustedProxies?: readonly string[];
}

/**
 * The security headers middleware.
 *
 * @param options Which proxies are believed about HTTPS.
 * @returns The middleware; use it early, so errors get the headers too.
 *
 * @example
 * ```ts
 * app.use(securityHeaders({ trustedProxies: ["10.0.0.0/8"] }));
 * // in a handler: c.var.secureHeadersNonce is the nonce for inline <script>/<style>
 * ```
 */
export function securityHeaders(options: SecurityHeadersOptions = {}): MiddlewareHandler {
  const trusted = options.trustedProxies ?? [];
  const headers = secureHeaders({
    contentSecurityPolicy: {
      defaultSrc: ["'self'"],
      scriptSrc: [NONCE, "'self'"],
      // The page's own <style> carries the nonce; style="" attributes (island markers,
      // widths of bars) and Chart.js's canvas styles are allowed by style-src-attr.
      styleSrc: [NONCE, "'self'"],
      styleSrcAttr: ["'unsafe-inline'"],
      imgSrc: ["'self'", "data:"],
      connectSrc: ["'self'"],
      objectSrc: ["'none'"],
      baseUri: ["'self'"],
      formAction: ["'self'"],
      frameAncestors: ["'none'"],
    },
    // Set below, unless a route chose its own (PostHog's endpoints answer no-cors beacons).
    crossOriginResourcePolicy: false,
    xFrameOptions: "DENY",
    referrerPolicy: "same-origin",
    strictTransportSecurity: false,
  });
  return async function securityHeadersMiddleware(c, next) {
    await headers(c, next);
    if (!c.res.headers.has("cross-origin-resource-policy")) {
      c.res.headers.set("cross-origin-resource-policy", "same-origin");
    }
    if (isHttps(c, trusted)) c.res.headers.set("strict-transport-security", HSTS);
  };
}
