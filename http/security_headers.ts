/**
 * Security headers on every response (pages, the JSON API, bundles, errors): a
 * Content-Security-Policy that runs only scripts from this site or carrying the response's
 * nonce, no framing, `nosniff`, a same-origin referrer, and HSTS when the request came over
 * HTTPS (directly, or from a trusted proxy that says so).
 *
 * The headers are computed once; only a page pays for a nonce: {@linkcode pageNonce} makes
 * one when a page asks (`routes/_page.ts`), and the policy then lets the page's inline
 * scripts and styles carrying it run. Any other answer (JSON, bundles, errors) gets the same
 * policy without a nonce: nothing inline runs. (`hono/secure-headers` made a nonce and
 * rebuilt the policy for every answer, ingestion's included.)
 *
 * @module
 */
import type { Context, MiddlewareHandler } from "hono";
import { isHttps } from "./client_address.ts";

/** The HSTS header sent over HTTPS: one year, subdomains included. */
export const HSTS = "max-age=31536000; includeSubDomains";

/** Where the response's nonce is kept in the context, once a page has asked for one. */
const NONCE_KEY = "secureHeadersNonce";

/** The policy's directives; `NONCE` marks where a page's nonce goes. */
const NONCE = Symbol("nonce");
const POLICY: Array<[string, Array<string | typeof NONCE>]> = [
  ["default-src", ["'self'"]],
  ["script-src", [NONCE, "'self'"]],
  // The page's own <style> carries the nonce; style="" attributes (island markers, widths
  // of bars) and Chart.js's canvas styles are allowed by style-src-attr.
  ["style-src", [NONCE, "'self'"]],
  ["style-src-attr", ["'unsafe-inline'"]],
  ["img-src", ["'self'", "data:"]],
  ["connect-src", ["'self'"]],
  ["object-src", ["'none'"]],
  ["base-uri", ["'self'"]],
  ["form-action", ["'self'"]],
  ["frame-ancestors", ["'none'"]],
];

function policy(nonce: string | undefined): string {
  return POLICY.map(([directive, sources]) =>
    [directive, ...sources.flatMap((s) => s !== NONCE ? [s] : nonce ? [`'nonce-${nonce}'`] : [])]
      .join(" ")
  ).join("; ");
}

/** The headers every answer carries (the policy apart). */
const FIXED: ReadonlyArray<readonly [string, string]> = [
  ["cross-origin-opener-policy", "same-origin"],
  ["origin-agent-cluster", "?1"],
  ["referrer-policy", "same-origin"],
  ["x-content-type-options", "nosniff"],
  ["x-dns-prefetch-control", "off"],
  ["x-download-options", "noopen"],
  ["x-frame-options", "DENY"],
  ["x-permitted-cross-domain-policies", "none"],
  ["x-xss-protection", "0"],
];

/** The policy of every answer that asked for no nonce. */
const POLICY_WITHOUT_NONCE = policy(undefined);

/**
 * The nonce of this response, made on the first call: a page's inline `<script>` and
 * `<style>` carry it, and the response's policy allows them.
 *
 * @param c The request context.
 * @returns The nonce (base64 of 16 random bytes).
 */
export function pageNonce(c: Context): string {
  const given = c.get(NONCE_KEY) as string | undefined;
  if (given) return given;
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  const nonce = btoa(String.fromCharCode(...bytes));
  c.set(NONCE_KEY, nonce);
  return nonce;
}

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
 * // in a page's handler: pageNonce(c) is the nonce for inline <script>/<style>
 * ```
 */
export function securityHeaders(options: SecurityHeadersOptions = {}): MiddlewareHandler {
  const trusted = options.trustedProxies ?? [];
  return async function securityHeadersMiddleware(c, next) {
    await next();
    const headers = c.res.headers;
    for (const [name, value] of FIXED) headers.set(name, value);
    const nonce = c.get(NONCE_KEY) as string | undefined;
    headers.set("content-security-policy", nonce ? policy(nonce) : POLICY_WITHOUT_NONCE);
    // Unless a route chose its own (PostHog's endpoints answer no-cors beacons).
    if (!headers.has("cross-origin-resource-policy")) {
      headers.set("cross-origin-resource-policy", "same-origin");
    }
    if (isHttps(c, trusted)) headers.set("strict-transport-security", HSTS);
  };
}
