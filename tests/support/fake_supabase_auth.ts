/**
 * A local Supabase Auth (GoTrue) stand-in: the password grant for `sam@supabase.test` /
 * `right-password`, the refresh grant (rotating refresh tokens), and the signing key
 * published as JWKS (ES256), as supabase-js and Beacon's token verifier use them.
 *
 * @module
 */
import { exportJWK, generateKeyPair, SignJWT } from "jose";

/** The id of the one user the stand-in knows. */
export const FAKE_AUTH_USER_ID = "5b0c9a52-8d3e-4f1a-9c2b-7e6d5c4b3a21";
const USER_ID = FAKE_AUTH_USER_ID;

/**
 * Starts the stand-in on 127.0.0.1; `close()` it in a `finally`.
 *
 * @param options How long access tokens last. @default {3600 seconds}
 * @returns Its URL, the calls it saw, the live refresh tokens and the access tokens issued.
 */
export async function fakeSupabaseAuth(
  options: {
    accessTokenSeconds?: number;
    /**
     * The accounts, as GoTrue keeps them (e.g. `auth.users` with bcrypt, read from the
     * database): the user a right email and password belong to, else null.
     * @default {only `sam@supabase.test` / `right-password`}
     */
    accounts?: (email: string, password: string) => Promise<{ id: string; email: string } | null>;
  } = {},
) {
  const { publicKey, privateKey } = await generateKeyPair("ES256");
  const jwk = { ...(await exportJWK(publicKey)), kid: "k1", alg: "ES256", use: "sig" };
  const calls: string[] = [];
  let issuer = "";
  /** Live refresh tokens (GoTrue rotates them: each refresh spends one). */
  const refreshTokens = new Set<string>();
  const accessTokens: string[] = [];
  const issue = async (email: string, seconds: number, userId = USER_ID) => {
    const now = Math.floor(Date.now() / 1000);
    const accessToken = await new SignJWT({ role: "authenticated", email, aal: "aal1" })
      .setProtectedHeader({ alg: "ES256", kid: "k1", typ: "JWT" })
      .setSubject(userId)
      .setAudience("authenticated")
      .setIssuer(issuer)
      .setIssuedAt(now)
      .setExpirationTime(now + seconds)
      .sign(privateKey);
    accessTokens.push(accessToken);
    const refreshToken = `refresh-${crypto.randomUUID()}`;
    refreshTokens.add(refreshToken);
    return {
      access_token: accessToken,
      token_type: "bearer",
      expires_in: seconds,
      expires_at: now + seconds,
      refresh_token: refreshToken,
      user: {
        id: userId,
        aud: "authenticated",
        role: "authenticated",
        email,
        app_metadata: {},
        user_metadata: {},
        created_at: new Date().toISOString(),
      },
    };
  };
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
    const url = new URL(req.url);
    calls.push(`${req.method} ${url.pathname}${url.search} apikey=${req.headers.get("apikey")}`);
    if (url.pathname === "/auth/v1/.well-known/jwks.json") return Response.json({ keys: [jwk] });
    if (url.pathname === "/auth/v1/token" && url.searchParams.get("grant_type") === "password") {
      const body = await req.json();
      const account = options.accounts
        ? await options.accounts(String(body.email), String(body.password))
        : body.email === "sam@supabase.test" && body.password === "right-password"
        ? { id: USER_ID, email: body.email }
        : null;
      if (!account) {
        return Response.json({
          code: 400,
          error_code: "invalid_credentials",
          msg: "Invalid login credentials",
        }, {
          status: 400,
        });
      }
      return Response.json(
        await issue(account.email, options.accessTokenSeconds ?? 3600, account.id),
      );
    }
    if (
      url.pathname === "/auth/v1/token" && url.searchParams.get("grant_type") === "refresh_token"
    ) {
      const body = await req.json();
      if (!refreshTokens.delete(body.refresh_token)) {
        return Response.json({
          code: 400,
          error_code: "refresh_token_not_found",
          msg: "Invalid Refresh Token: Refresh Token Not Found",
        }, { status: 400 });
      }
      return Response.json(await issue("sam@supabase.test", 3600));
    }
    return new Response("not found", { status: 404 });
  });
  issuer = `http://127.0.0.1:${server.addr.port}/auth/v1`;
  return {
    url: `http://127.0.0.1:${server.addr.port}`,
    calls,
    refreshTokens,
    accessTokens,
    /**
     * An access token for any user id, signed as GoTrue signs its own (for suites that
     * create their users in the database and act as them).
     */
    token: async (userId: string, seconds = 3600) => {
      const now = Math.floor(Date.now() / 1000);
      return await new SignJWT({ role: "authenticated", aal: "aal1" })
        .setProtectedHeader({ alg: "ES256", kid: "k1", typ: "JWT" })
        .setSubject(userId)
        .setAudience("authenticated")
        .setIssuer(issuer)
        .setIssuedAt(now)
        .setExpirationTime(now + seconds)
        .sign(privateKey);
    },
    close: () => server.shutdown(),
  };
}
