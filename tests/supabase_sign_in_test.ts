/**
 * Supabase mode: the sign-in form goes through supabase-js to Supabase Auth (here a local
 * server speaking GoTrue's password grant and publishing its signing key as JWKS), and the
 * access token it returns becomes the session, verified against the JWKS on each request.
 */
import assert from "node:assert/strict";
import { exportJWK, generateKeyPair, SignJWT } from "jose";
import { startBeacon } from "../server/start.ts";
import { defineConfig } from "../server/config.ts";
import { silentLogger } from "../server/log.ts";

const USER_ID = "5b0c9a52-8d3e-4f1a-9c2b-7e6d5c4b3a21";

async function fakeSupabaseAuth() {
  const { publicKey, privateKey } = await generateKeyPair("ES256");
  const jwk = { ...(await exportJWK(publicKey)), kid: "k1", alg: "ES256", use: "sig" };
  const calls: string[] = [];
  let issuer = "";
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
    const url = new URL(req.url);
    calls.push(`${req.method} ${url.pathname}${url.search} apikey=${req.headers.get("apikey")}`);
    if (url.pathname === "/auth/v1/.well-known/jwks.json") return Response.json({ keys: [jwk] });
    if (url.pathname === "/auth/v1/token" && url.searchParams.get("grant_type") === "password") {
      const body = await req.json();
      if (body.email !== "sam@supabase.test" || body.password !== "right-password") {
        return Response.json({
          code: 400,
          error_code: "invalid_credentials",
          msg: "Invalid login credentials",
        }, {
          status: 400,
        });
      }
      const now = Math.floor(Date.now() / 1000);
      const accessToken = await new SignJWT({
        role: "authenticated",
        email: body.email,
        aal: "aal1",
      })
        .setProtectedHeader({ alg: "ES256", kid: "k1", typ: "JWT" })
        .setSubject(USER_ID)
        .setAudience("authenticated")
        .setIssuer(issuer)
        .setIssuedAt(now)
        .setExpirationTime(now + 3600)
        .sign(privateKey);
      return Response.json({
        access_token: accessToken,
        token_type: "bearer",
        expires_in: 3600,
        expires_at: now + 3600,
        refresh_token: "refresh-token",
        user: {
          id: USER_ID,
          aud: "authenticated",
          role: "authenticated",
          email: body.email,
          app_metadata: {},
          user_metadata: {},
          created_at: new Date().toISOString(),
        },
      });
    }
    return new Response("not found", { status: 404 });
  });
  issuer = `http://127.0.0.1:${server.addr.port}/auth/v1`;
  return { url: `http://127.0.0.1:${server.addr.port}`, calls, close: () => server.shutdown() };
}

Deno.test("Supabase mode: sign in through supabase-js, then the access token is the session", async () => {
  const auth = await fakeSupabaseAuth();
  const beacon = await startBeacon(
    defineConfig({
      port: 0,
      hostname: "127.0.0.1",
      database: { kind: "embedded", dataDir: "memory://" },
      seedDemoData: false,
      nightly: "never",
      ingestKey: "bk_supabase_mode_key_0123456789",
      auth: {
        mode: "supabase",
        url: auth.url,
        jwksUrl: `${auth.url}/auth/v1/.well-known/jwks.json`,
        publishableKey: "sb_publishable_test",
        audience: "authenticated",
      },
    }),
    { log: silentLogger, banner: () => {} },
  );
  try {
    await beacon.db.query(
      "insert into auth.users (id, email, created_at) values ($1, 'sam@supabase.test', now())",
      [USER_ID],
    );
    await beacon.db.query("update public.profiles set is_superuser = true where id = $1", [
      USER_ID,
    ]);
    const form = await fetch(`${beacon.url}/login`);
    const csrfCookie = form.headers.getSetCookie()[0].split(";")[0];
    const csrf = /name="csrf" value="([^"]+)"/.exec(await form.text())![1];
    const signIn = (password: string) =>
      fetch(`${beacon.url}/login`, {
        method: "POST",
        redirect: "manual",
        headers: { "content-type": "application/x-www-form-urlencoded", cookie: csrfCookie },
        body: new URLSearchParams({
          csrf,
          email: "sam@supabase.test",
          password,
          next: "/analytics",
        }),
      });
    const wrong = await signIn("wrong-password");
    assert.equal(wrong.status, 401);
    await wrong.body?.cancel();
    const right = await signIn("right-password");
    assert.equal(right.status, 303);
    await right.body?.cancel();
    const session = right.headers.getSetCookie().find((c) => c.startsWith("beacon_session="))!;
    assert.ok(session, "a session cookie holds the access token");
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
        authorization: `Bearer ${session.split(";")[0].slice(15)}`,
      },
      body: JSON.stringify({ event: "from_supabase_user" }),
    });
    assert.deepEqual(await events.json(), { accepted: 1, duplicates: 0, rejected: [] });
  } finally {
    await beacon.shutdown();
    await auth.close();
  }
});
