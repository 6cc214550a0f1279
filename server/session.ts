/**
 * Who is asking: the signed-in user from the session cookie (or a bearer token), whether
 * they are a superuser (asked of the database, as them), the cookies that carry a session,
 * and CSRF tokens for forms.
 *
 * @module
 */
import type { Context } from "hono";
import { getCookie } from "hono/cookie";
import { actAsUser } from "../database/act_as.ts";
import type { Queryable } from "../database/mod.ts";
import type { AppEnv } from "./app_env.ts";
import type { Claims } from "./auth.ts";
import { randomSecret } from "./settings.ts";

/** The session cookie's name. */
export const SESSION_COOKIE = "beacon_session";
/** The CSRF cookie's name. */
export const CSRF_COOKIE = "beacon_csrf";
/** How long a session lasts, in seconds. */
export const SESSION_SECONDS = 12 * 3600;

/** A signed-in viewer. */
export interface Viewer {
  /** The verified token claims. */
  claims: Claims;
  /** Whether the database says they are a superuser. */
  superuser: boolean;
}

/** Whether the request came over HTTPS (directly or through a proxy that says so). */
export function isHttps(c: Context): boolean {
  return new URL(c.req.url).protocol === "https:" ||
    c.req.header("x-forwarded-proto")?.split(",")[0].trim() === "https";
}

/** `Set-Cookie` attributes for a cookie Beacon sets. */
export function cookieAttributes(
  c: Context,
  maxAgeSeconds: number,
  sameSite: "Lax" | "Strict",
): string {
  return `Path=/; Max-Age=${maxAgeSeconds}; HttpOnly; SameSite=${sameSite}${
    isHttps(c) ? "; Secure" : ""
  }`;
}

/**
 * The signed-in viewer, or null: from `Authorization: Bearer` or the session cookie; the
 * token must verify, and the superuser flag comes from the database, read as the user.
 *
 * @param c The request context.
 * @returns The viewer, or null when nobody (valid) is signed in.
 */
export async function currentViewer(c: Context<AppEnv>): Promise<Viewer | null> {
  const { verifier, db, config } = c.var.deps;
  const bearer = c.req.header("authorization")?.match(/^Bearer\s+(\S+)$/i)?.[1];
  const token = bearer ?? getCookie(c, SESSION_COOKIE);
  if (!token) return null;
  let claims: Claims;
  try {
    claims = await verifier.verify(token);
  } catch {
    return null;
  }
  const [row] = await actAsUser(
    db,
    claims,
    (tx) => tx.query<{ superuser: boolean }>("select private.is_superuser() as superuser"),
    { statementTimeoutMs: config.limits.statementTimeoutMs },
  );
  return { claims, superuser: row.superuser === true };
}

/**
 * The CSRF token for forms on this response: the one in the cookie, or a new one (set as a
 * cookie) when there is none.
 */
export function csrfToken(c: Context): string {
  const existing = getCookie(c, CSRF_COOKIE);
  if (existing && /^[\w-]{20,100}$/.test(existing)) return existing;
  const token = randomSecret(24);
  c.header("set-cookie", `${CSRF_COOKIE}=${token}; ${cookieAttributes(c, 86400, "Strict")}`, {
    append: true,
  });
  return token;
}

/** Whether a submitted form's CSRF token matches the cookie's. */
export function csrfMatches(c: Context, submitted: unknown): boolean {
  const expected = getCookie(c, CSRF_COOKIE);
  if (typeof submitted !== "string" || !expected || submitted.length !== expected.length) {
    return false;
  }
  let diff = 0;
  for (let i = 0; i < expected.length; i++) {
    diff |= expected.charCodeAt(i) ^ submitted.charCodeAt(i);
  }
  return diff === 0;
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
