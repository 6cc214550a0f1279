/**
 * CSRF tokens for forms: an HMAC, under Beacon's secret, of what the form is bound to (a
 * session's secret once signed in; a random value kept in a cookie before). A cookie planted
 * by someone else yields nothing they can submit, since the token needs Beacon's secret.
 * `routes/_viewer.ts` reads the bindings from the request.
 *
 * @module
 */
import { createHmac, timingSafeEqual } from "node:crypto";

/** The cookie that binds the sign-in form's CSRF token (before there is a session). */
export const CSRF_COOKIE = "beacon_csrf";

/** What a form's token is bound to. */
export type CsrfBinding = { session: string } | { nonce: string };

/**
 * The CSRF token for a binding.
 *
 * @param secret Beacon's signing secret.
 * @param binding The session's secret, or the pre-sign-in cookie's nonce.
 * @returns The token to put in the form's `csrf` field.
 */
export function csrfTokenFor(secret: string, binding: CsrfBinding): string {
  const bound = "session" in binding ? `session:${binding.session}` : `form:${binding.nonce}`;
  return createHmac("sha256", secret).update(`beacon-csrf\n${bound}`).digest("base64url");
}

/**
 * Whether a submitted token is the one issued for a binding (compared in constant time).
 *
 * @param secret Beacon's signing secret.
 * @param binding The session's secret, or the pre-sign-in cookie's nonce.
 * @param submitted The form's `csrf` field.
 * @returns True when it matches.
 */
export function csrfTokenMatches(
  secret: string,
  binding: CsrfBinding,
  submitted: unknown,
): boolean {
  if (typeof submitted !== "string") return false;
  const expected = new TextEncoder().encode(csrfTokenFor(secret, binding));
  const given = new TextEncoder().encode(submitted);
  return given.length === expected.length && timingSafeEqual(given, expected);
}
