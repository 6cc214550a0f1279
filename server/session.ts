/**
 * Who is asking: the signed-in user from the session cookie (a server-side session, see
 * `session_store.ts`) or a bearer token, whether they are a superuser (asked of the
 * database, as them), the cookies that carry a session, and CSRF tokens for forms.
 *
 * @module
 */
import type { Context } from "hono";
import { getCookie } from "hono/cookie";
import { decodeJwt } from "jose";
import { createHmac, timingSafeEqual } from "node:crypto";
import { actAsUser } from "../database/act_as.ts";
import type { Queryable } from "../database/mod.ts";
import type { AppEnv } from "./app_env.ts";
import type { Claims } from "./auth.ts";
import { isHttps } from "./client_address.ts";
import { randomSecret } from "./settings.ts";
import {
  findSession,
  refreshSession,
  revokeSession,
  type SessionTokens,
  type StoredSession,
} from "./session_store.ts";

export { isHttps };

/** The session cookie's name. */
export const SESSION_COOKIE = "beacon_session";
/** The cookie that binds the sign-in form's CSRF token (before there is a session). */
export const CSRF_COOKIE = "beacon_csrf";
/**
 * How long a session lasts, in seconds: from sign-in for local accounts; from the last
 * token refresh in Supabase mode.
 */
export const SESSION_SECONDS = 12 * 3600;
/** A Supabase access token this close to its expiry is refreshed first, in seconds. */
const REFRESH_MARGIN_SECONDS = 30;

/** A signed-in viewer. */
export interface Viewer {
  /** The verified token claims (or, for a local account's session, Beacon's own). */
  claims: Claims;
  /** Whether the database says they are a superuser. */
  superuser: boolean;
  /** The session cookie's secret, when signed in by cookie (not by bearer token). */
  sessionSecret?: string;
}

/** `Set-Cookie` attributes for a cookie Beacon sets. */
export function cookieAttributes(
  c: Context<AppEnv>,
  maxAgeSeconds: number,
  sameSite: "Lax" | "Strict",
): string {
  return `Path=/; Max-Age=${maxAgeSeconds}; HttpOnly; SameSite=${sameSite}${
    isHttps(c) ? "; Secure" : ""
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
  const { verifier, db, config } = c.var.deps;
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
    claims = await sessionClaims(c, sessionSecret);
    if (!claims) return null;
  }
  const [row] = await actAsUser(
    db,
    claims,
    (tx) => tx.query<{ superuser: boolean }>("select private.is_superuser() as superuser"),
    { statementTimeoutMs: config.limits.statementTimeoutMs },
  );
  return { claims, superuser: row.superuser === true, sessionSecret };
}

/** Refreshes in flight, per session, so simultaneous requests spend the refresh token once. */
const refreshing = new Map<string, Promise<SessionTokens | null>>();

function expiresSoon(token: string): boolean {
  try {
    const { exp } = decodeJwt(token);
    return typeof exp !== "number" || exp - Date.now() / 1000 < REFRESH_MARGIN_SECONDS;
  } catch {
    return true;
  }
}

/** The claims of a live session: Beacon's own for a local account, else Supabase's token's. */
async function sessionClaims(c: Context<AppEnv>, secret: string): Promise<Claims | null> {
  const { db, verifier } = c.var.deps;
  const session = await findSession(db, secret);
  if (!session) return null;
  if (session.accessToken === null) {
    return {
      sub: session.userId,
      role: "authenticated",
      aud: "authenticated",
      email: session.email ?? undefined,
    };
  }
  let token = session.accessToken;
  if (expiresSoon(token)) {
    const fresh = await refreshTokens(c, secret, session);
    if (!fresh) return null;
    token = fresh.accessToken;
    // The session now lasts from this refresh: so does the cookie.
    setSessionCookie(c, secret);
  }
  try {
    return await verifier.verify(token);
  } catch {
    return null;
  }
}

/** Renews a Supabase session's tokens (once, however many requests ask at the same time). */
function refreshTokens(
  c: Context<AppEnv>,
  secret: string,
  session: StoredSession,
): Promise<SessionTokens | null> {
  const { db, supabaseRefresh, log } = c.var.deps;
  let pending = refreshing.get(secret);
  if (!pending) {
    pending = (async () => {
      if (!supabaseRefresh || !session.refreshToken) return null;
      const fresh = await supabaseRefresh(session.refreshToken);
      if (!fresh) {
        log.info("session ended: Supabase Auth refused the refresh token", {
          request_id: c.var.requestId,
        });
        await revokeSession(db, secret);
        return null;
      }
      await refreshSession(db, secret, { tokens: fresh, seconds: SESSION_SECONDS });
      return fresh;
    })().finally(() => refreshing.delete(secret));
    refreshing.set(secret, pending);
  }
  return pending;
}

function csrfFor(c: Context<AppEnv>, binding: string): string {
  return createHmac("sha256", c.var.deps.localTokenSecret)
    .update(`beacon-csrf\n${binding}`)
    .digest("base64url");
}

/**
 * The CSRF token for forms on this response. Signed in (by cookie), it is bound to the
 * session: an HMAC of the session's secret. Before sign-in, it is an HMAC of a random value
 * kept in the `beacon_csrf` cookie (set here when missing). Either way a cookie planted by
 * someone else yields nothing they can submit, since the token needs Beacon's secret.
 *
 * @param c The request context (`c.var.viewer` set when signed in).
 * @returns The token to put in the form's `csrf` field.
 */
export function csrfToken(c: Context<AppEnv>): string {
  const sessionSecret = (c.get("viewer") as Viewer | undefined)?.sessionSecret;
  if (sessionSecret) return csrfFor(c, `session:${sessionSecret}`);
  let nonce = getCookie(c, CSRF_COOKIE);
  if (!nonce || !/^[\w-]{20,100}$/.test(nonce)) {
    nonce = randomSecret(24);
    c.header("set-cookie", `${CSRF_COOKIE}=${nonce}; ${cookieAttributes(c, 86400, "Strict")}`, {
      append: true,
    });
  }
  return csrfFor(c, `form:${nonce}`);
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
  let binding: string;
  if (sessionSecret) {
    binding = `session:${sessionSecret}`;
  } else {
    const nonce = getCookie(c, CSRF_COOKIE);
    if (!nonce) return false;
    binding = `form:${nonce}`;
  }
  if (typeof submitted !== "string") return false;
  const expected = new TextEncoder().encode(csrfFor(c, binding));
  const given = new TextEncoder().encode(submitted);
  return given.length === expected.length && timingSafeEqual(given, expected);
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
