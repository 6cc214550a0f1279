/**
 * Signing in against a Supabase project's Auth with supabase-js, on the server: the form
 * posts to Beacon, Beacon asks Supabase Auth, and keeps the access token in an HttpOnly
 * cookie (verified on each request like any Supabase access token).
 *
 * @module
 */
import { createClient } from "@supabase/supabase-js";

/**
 * Creates the sign-in function for a project.
 *
 * @param url The project's URL.
 * @param publishableKey The project's publishable (anon) key.
 * @returns A function resolving with the access token, or null when Supabase Auth refuses
 *   the email and password.
 */
export function createSupabaseSignIn(
  url: string,
  publishableKey: string,
): (email: string, password: string) => Promise<string | null> {
  const client = createClient(url, publishableKey, {
    auth: { persistSession: false, autoRefreshToken: false, detectSessionInUrl: false },
  });
  return async (email, password) => {
    const { data, error } = await client.auth.signInWithPassword({ email, password });
    if (error) {
      if (error.status === 400 || error.status === 401 || error.status === 422) return null;
      throw new Error(`Supabase Auth failed: ${error.message}`);
    }
    return data.session?.access_token ?? null;
  };
}
