/**
 * Signing in against a Supabase project's Auth on the server: the form posts to Beacon,
 * Beacon asks Supabase Auth (with supabase-js) and keeps the access and refresh tokens in
 * its server-side session (`beacon.sessions`); the browser only gets the session's cookie.
 * When the access token runs out, Beacon renews it with the refresh token.
 *
 * @module
 */
import { createClient } from "@supabase/supabase-js";
import type { SessionTokens } from "./sessions.ts";

/**
 * Creates the sign-in function for a project.
 *
 * @param url The project's URL.
 * @param publishableKey The project's publishable (anon) key.
 * @returns A function resolving with the session's tokens, or null when Supabase Auth
 *   refuses the email and password.
 */
export function createSupabaseSignIn(
  url: string,
  publishableKey: string,
): (email: string, password: string) => Promise<SessionTokens | null> {
  const client = createClient(url, publishableKey, {
    auth: { persistSession: false, autoRefreshToken: false, detectSessionInUrl: false },
  });
  return async (email, password) => {
    const { data, error } = await client.auth.signInWithPassword({ email, password });
    if (error) {
      if (error.status === 400 || error.status === 401 || error.status === 422) return null;
      throw new Error(`Supabase Auth failed: ${error.message}`);
    }
    const session = data.session;
    if (!session?.access_token || !session.refresh_token) return null;
    return { accessToken: session.access_token, refreshToken: session.refresh_token };
  };
}

/**
 * Creates the refresh function for a project: GoTrue's refresh grant
 * (`POST /auth/v1/token?grant_type=refresh_token`). It is called directly rather than
 * through a shared supabase-js client, whose auth state belongs to one user at a time (it
 * folds concurrent refreshes into one), while Beacon refreshes many users' sessions.
 *
 * @param url The project's URL.
 * @param publishableKey The project's publishable (anon) key.
 * @param fetchFn The fetch to use. @default {globalThis.fetch}
 * @returns A function resolving with the new tokens (Supabase rotates the refresh token),
 *   or null when Supabase Auth refuses the refresh token (revoked, reused, or signed out).
 */
export function createSupabaseRefresh(
  url: string,
  publishableKey: string,
  fetchFn: typeof fetch = fetch,
): (refreshToken: string) => Promise<SessionTokens | null> {
  const endpoint = `${url.replace(/\/+$/, "")}/auth/v1/token?grant_type=refresh_token`;
  return async (refreshToken) => {
    const res = await fetchFn(endpoint, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        apikey: publishableKey,
        authorization: `Bearer ${publishableKey}`,
      },
      body: JSON.stringify({ refresh_token: refreshToken }),
    });
    if (res.status === 400 || res.status === 401 || res.status === 403) {
      await res.body?.cancel();
      return null;
    }
    if (!res.ok) {
      await res.body?.cancel();
      throw new Error(`Supabase Auth refresh failed with HTTP ${res.status}`);
    }
    const body = await res.json() as { access_token?: unknown; refresh_token?: unknown };
    if (typeof body.access_token !== "string" || typeof body.refresh_token !== "string") {
      throw new Error("Supabase Auth refresh answered without tokens");
    }
    return { accessToken: body.access_token, refreshToken: body.refresh_token };
  };
}
