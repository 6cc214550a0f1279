/**
 * Supabase mode: the sign-in form goes through supabase-js to Supabase Auth (here a local
 * server speaking GoTrue's password grant and publishing its signing key as JWKS), and the
 * access token it returns becomes the session, verified against the JWKS on each request.
 */
import assert from "node:assert/strict";
import { signInThroughForm, startTestBeacon } from "./support/beacon.ts";
import { FAKE_AUTH_USER_ID as USER_ID, fakeSupabaseAuth } from "./support/fake_supabase_auth.ts";

/** Beacon in Supabase mode against the fake Auth, with USER_ID a superuser in it. */
async function startSupabaseModeBeacon(authUrl: string) {
  const beacon = await startTestBeacon({
    ingestKey: "bk_supabase_mode_key_0123456789",
    auth: {
      mode: "supabase",
      url: authUrl,
      jwksUrl: `${authUrl}/auth/v1/.well-known/jwks.json`,
      publishableKey: "sb_publishable_test",
      audience: "authenticated",
    },
  });
  try {
    await beacon.db.query(
      "insert into auth.users (id, email, created_at) values ($1, 'sam@supabase.test', now())",
      [USER_ID],
    );
    await beacon.db.query("update public.profiles set is_superuser = true where id = $1", [
      USER_ID,
    ]);
    return beacon;
  } catch (error) {
    await beacon.shutdown();
    throw error;
  }
}

Deno.test("Supabase mode: sign in through supabase-js; the session keeps the tokens on the server", async () => {
  const auth = await fakeSupabaseAuth();
  const beacon = await startSupabaseModeBeacon(auth.url);
  try {
    const signIn = (password: string) =>
      signInThroughForm(beacon.url, {
        email: "sam@supabase.test",
        password,
        next: "/analytics",
      });
    const wrong = await signIn("wrong-password");
    assert.equal(wrong.status, 401);
    await wrong.body?.cancel();
    const right = await signIn("right-password");
    assert.equal(right.status, 303);
    await right.body?.cancel();
    const session = right.headers.getSetCookie().find((c) => c.startsWith("beacon_session="))!;
    assert.ok(session, "a session cookie is set");
    assert.match(session, /^beacon_session=[\w-]{43};/, "it holds a session id, not the token");
    assert.ok(
      auth.calls.some((c) =>
        c.startsWith("POST /auth/v1/token?grant_type=password apikey=sb_publishable_test")
      ),
      "supabase-js asked Supabase Auth with the publishable key",
    );
    const page = await fetch(`${beacon.url}/analytics`, {
      headers: { cookie: session.split(";")[0] },
    });
    assert.equal(page.status, 200);
    assert.match(await page.text(), /sam@supabase\.test/);
    const events = await fetch(`${beacon.url}/api/v1/events`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        authorization: `Bearer ${auth.accessTokens.at(-1)}`,
      },
      body: JSON.stringify({ event: "from_supabase_user" }),
    });
    assert.deepEqual(await events.json(), { accepted: 1, duplicates: 0, rejected: [] });
  } finally {
    await beacon.shutdown();
    await auth.close();
  }
});

Deno.test("Supabase mode: a session outlives its access token through the refresh token, and ends with it", async () => {
  // Access tokens that are about to expire: the first request must refresh.
  const auth = await fakeSupabaseAuth({ accessTokenSeconds: 5 });
  const beacon = await startSupabaseModeBeacon(auth.url);
  try {
    const signIn = await signInThroughForm(beacon.url, {
      email: "sam@supabase.test",
      password: "right-password",
      next: "/analytics",
    });
    assert.equal(signIn.status, 303);
    await signIn.body?.cancel();
    const cookie = signIn.headers.getSetCookie().find((c) => c.startsWith("beacon_session="))!
      .split(";")[0];
    const [firstRefreshToken] = auth.refreshTokens;

    const page = await fetch(`${beacon.url}/analytics/events`, { headers: { cookie } });
    assert.equal(page.status, 200, "the expiring access token was refreshed");
    await page.body?.cancel();
    assert.ok(
      auth.calls.some((c) => c.startsWith("POST /auth/v1/token?grant_type=refresh_token")),
      "Beacon used GoTrue's refresh grant",
    );
    assert.equal(auth.refreshTokens.has(firstRefreshToken), false, "the refresh token was spent");
    const renewed = page.headers.getSetCookie().find((c) => c.startsWith("beacon_session="));
    assert.ok(renewed, "the cookie is set again");
    assert.equal(renewed.split(";")[0], cookie, "for the same session");
    assert.match(renewed, /Max-Age=43200/, "its lifetime follows the refresh");
    const [row] = await beacon.db.query<{ refresh_token: string; access_token: string }>(
      "select refresh_token, access_token from beacon.sessions where user_id = $1",
      [USER_ID],
    );
    assert.ok(auth.refreshTokens.has(row.refresh_token), "the rotated refresh token is kept");
    assert.equal(row.access_token, auth.accessTokens.at(-1));

    const again = await fetch(`${beacon.url}/analytics/events`, { headers: { cookie } });
    assert.equal(again.status, 200, "the fresh token serves the next request");
    await again.body?.cancel();
    assert.equal(
      auth.calls.filter((c) => c.includes("grant_type=refresh_token")).length,
      1,
      "without another refresh",
    );

    // Supabase Auth revokes the refresh token (the user signed out elsewhere): once the
    // access token runs out, the session ends.
    auth.refreshTokens.clear();
    await beacon.db.query(
      "update beacon.sessions set access_token = $2 where user_id = $1",
      [USER_ID, auth.accessTokens[0]],
    );
    const ended = await fetch(`${beacon.url}/analytics/events`, {
      headers: { cookie },
      redirect: "manual",
    });
    assert.equal(ended.status, 302);
    await ended.body?.cancel();
  } finally {
    await beacon.shutdown();
    await auth.close();
  }
});
