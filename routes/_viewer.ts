/**
 * The Hono-context side of sessions, for routes: who is asking (the session cookie or a
 * bearer token, and whether they are a superuser, asked of the database as them), the
 * cookies Beacon sets, CSRF tokens for this request's forms, and reads as the viewer. The
 * sessions themselves are `auth/sessions.ts`; the tokens `auth/csrf.ts`.
 *
 * @module
 */
import type { Context } from "hono";
import { getCookie } from "hono/cookie";
import { actAsUser, queryAsUser } from "../database/act_as.ts";
import type { Queryable } from "../database/mod.ts";
import type { AppEnv } from "./_deps.ts";
import type { Claims } from "../auth/tokens.ts";
import { clientAddress, isHttps, publicOrigin } from "../http/client_address.ts";
import { randomSecret } from "../auth/secrets.ts";
import { CSRF_COOKIE, type CsrfBinding, csrfTokenFor, csrfTokenMatches } from "../auth/csrf.ts";
import { claimsOfSession, SESSION_COOKIE, SESSION_SECONDS, type Viewer } from "../auth/sessions.ts";

/** Whether this request came over HTTPS (directly, or from a trusted proxy). */
export function requestIsHttps(c: Context<AppEnv>): boolean {
  return isHttps(c, c.var.deps.config.trustedProxies);
}

/** The client's address, believing `X-Forwarded-For` only from `config.trustedProxies`. */
export function requestAddress(c: Context<AppEnv>): string {
  const { trustedProxies, clientAddressHeader } = c.var.deps.config;
  return clientAddress(c, trustedProxies, clientAddressHeader);
}

/** The origin browsers see for this site (scheme from a trusted proxy, the `Host` sent). */
export function siteOrigin(c: Context<AppEnv>): string {
  return publicOrigin(c, c.var.deps.config.trustedProxies);
}

/** `Set-Cookie` attributes for a cookie Beacon sets. */
export function cookieAttributes(
  c: Context<AppEnv>,
  maxAgeSeconds: number,
  sameSite: "Lax" | "Strict",
): string {
  return `Path=/; Max-Age=${maxAgeSeconds}; HttpOnly; SameSite=${sameSite}${
    requestIsHttps(c) ? "; Secure" : ""
  }`;
}

/**
 * Sets the session cookie (HttpOnly, SameSite=Lax, Secure behind HTTPS).
 *
 * @param c The request context.
 * @param secret The session's secret; empty to clear the cookie.
 * @param maxAgeSeconds How long the browser keeps it. @default {SESSION_SECONDS}
 */
export function setSessionCookie(
  c: Context<AppEnv>,
  secret: string,
  maxAgeSeconds = SESSION_SECONDS,
): void {
  c.header(
    "set-cookie",
    `${SESSION_COOKIE}=${secret}; ${cookieAttributes(c, secret ? maxAgeSeconds : 0, "Lax")}`,
    { append: true },
  );
}

/**
 * The signed-in viewer, or null: from `Authorization: Bearer` (a token that must verify)
 * or the session cookie (a live session in `beacon.sessions`); the superuser flag comes from
 * the database, read as the user.
 *
 * @param c The request context.
 * @returns The viewer, or null when nobody (valid) is signed in.
 */
export async function currentViewer(c: Context<AppEnv>): Promise<Viewer | null> {
  const { verifier, db, config, supabaseRefresh, log } = c.var.deps;
  const bearer = c.req.header("authorization")?.match(/^Bearer\s+(\S+)$/i)?.[1];
  let claims: Claims | null;
  let sessionSecret: string | undefined;
  if (bearer) {
    try {
      claims = await verifier.verify(bearer);
    } catch {
      return null;
    }
  } else {
    sessionSecret = getCookie(c, SESSION_COOKIE);
    if (!sessionSecret) return null;
    const secret = sessionSecret;
    claims = await claimsOfSession(secret, {
      db,
      verifier,
      refresh: supabaseRefresh,
      // The session now lasts from this refresh: so does the cookie.
      onRenewed: () => setSessionCookie(c, secret),
      onRefreshRefused: () =>
        log.info("session ended: Supabase Auth refused the refresh token", {
          request_id: c.var.requestId,
        }),
    });
    if (!claims) return null;
  }
  // One message, one round trip: asked on every signed-in request.
  const [row] = await queryAsUser<{ superuser: boolean; analyst: boolean }>(
    db,
    claims,
    "select private.is_superuser() as superuser, private.is_analyst() as analyst",
    { statementTimeoutMs: config.limits.statementTimeoutMs },
  );
  return {
    claims,
    superuser: row.superuser === true,
    analyst: row.analyst === true,
    sessionSecret,
  };
}

/**
 * The CSRF token for forms on this response. Signed in (by cookie), it is bound to the
 * session: an HMAC of the session's secret. Before sign-in, it is an HMAC of a random value
 * kept in the `beacon_csrf` cookie (set here when missing).
 *
 * @param c The request context (`c.var.viewer` set when signed in).
 * @returns The token to put in the form's `csrf` field.
 */
export function csrfToken(c: Context<AppEnv>): string {
  const sessionSecret = (c.get("viewer") as Viewer | undefined)?.sessionSecret;
  const secret = c.var.deps.localTokenSecret;
  if (sessionSecret) return csrfTokenFor(secret, { session: sessionSecret });
  let nonce = getCookie(c, CSRF_COOKIE);
  if (!nonce || !/^[\w-]{20,100}$/.test(nonce)) {
    nonce = randomSecret(24);
    c.header("set-cookie", `${CSRF_COOKIE}=${nonce}; ${cookieAttributes(c, 86400, "Strict")}`, {
      append: true,
    });
  }
  return csrfTokenFor(secret, { nonce });
}

/**
 * Whether a submitted form's CSRF token is the one Beacon issued for this session (or, with
 * no session, for this browser's `beacon_csrf` cookie).
 *
 * @param c The request context.
 * @param submitted The form's `csrf` field.
 * @param sessionSecret The session the form acts on, when there is one.
 * @returns True when it matches.
 */
export function csrfMatches(
  c: Context<AppEnv>,
  submitted: unknown,
  sessionSecret?: string,
): boolean {
  let binding: CsrfBinding;
  if (sessionSecret) {
    binding = { session: sessionSecret };
  } else {
    const nonce = getCookie(c, CSRF_COOKIE);
    if (!nonce) return false;
    binding = { nonce };
  }
  return csrfTokenMatches(c.var.deps.localTokenSecret, binding, submitted);
}

/**
 * Runs `fn` as the signed-in viewer (`c.var.viewer`), with the configured statement
 * timeout, so RLS decides what it reads.
 *
 * @param c The request context, after a guard set the viewer.
 * @param fn The reads.
 * @returns What `fn` returns.
 */
export function asViewer<T>(c: Context<AppEnv>, fn: (tx: Queryable) => Promise<T>): Promise<T> {
  const { db, config } = c.var.deps;
  return actAsUser(db, c.var.viewer.claims, fn, {
    statementTimeoutMs: config.limits.statementTimeoutMs,
  });
}
