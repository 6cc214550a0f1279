import assert from "node:assert/strict";
import { exportJWK, generateKeyPair, SignJWT } from "jose";
import { createTokenVerifier, issueAccessToken, TokenError } from "./tokens.ts";

const USER = "3f0c8f5e-2f7b-4d8a-9d4e-6a1b2c3d4e5f";

/** A local JWKS endpoint, as Supabase Auth publishes at /auth/v1/.well-known/jwks.json. */
async function jwksServer() {
  const { publicKey, privateKey } = await generateKeyPair("ES256");
  const jwk = {
    ...(await exportJWK(publicKey)),
    kid: "key-1",
    alg: "ES256",
    use: "sig",
  };
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    (req) =>
      new URL(req.url).pathname === "/auth/v1/.well-known/jwks.json"
        ? Response.json({ keys: [jwk] })
        : new Response("not found", { status: 404 }),
  );
  const url = `http://127.0.0.1:${server.addr.port}/auth/v1/.well-known/jwks.json`;
  const sign = (
    claims: Record<string, unknown>,
    options: { exp?: number; key?: CryptoKey; aud?: string } = {},
  ) =>
    new SignJWT({ role: "authenticated", ...claims })
      .setProtectedHeader({ alg: "ES256", kid: "key-1" })
      .setSubject(USER)
      .setAudience(options.aud ?? "authenticated")
      .setIssuedAt()
      .setExpirationTime(options.exp ?? Math.floor(Date.now() / 1000) + 600)
      .sign(options.key ?? privateKey);
  return { url, sign, close: () => server.shutdown() };
}

async function refusal(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    assert.ok(
      error instanceof TokenError,
      `expected a TokenError, got ${error}`,
    );
    return error.message;
  }
  throw new assert.AssertionError({ message: "the token was accepted" });
}

Deno.test("tokens signed with a key published as JWKS are verified; others refused", async () => {
  const jwks = await jwksServer();
  try {
    const verifier = createTokenVerifier({ jwksUrl: jwks.url });
    const claims = await verifier.verify(await jwks.sign({ email: "a@b.c" }));
    assert.equal(claims.sub, USER);
    assert.equal(claims.email, "a@b.c");

    assert.match(
      await refusal(
        verifier.verify(
          await jwks.sign({}, { exp: Math.floor(Date.now() / 1000) - 5 }),
        ),
      ),
      /expired/,
    );
    const other = await generateKeyPair("ES256");
    assert.match(
      await refusal(
        verifier.verify(await jwks.sign({}, { key: other.privateKey })),
      ),
      /signature/,
    );
    assert.match(
      await refusal(
        verifier.verify(await jwks.sign({}, { aud: "someone-else" })),
      ),
      /aud/,
    );
    assert.match(
      await refusal(verifier.verify(await jwks.sign({ role: "anon" }))),
      /not a signed-in user/,
    );
    assert.match(await refusal(verifier.verify("abc")), /malformed/);
    assert.match(await refusal(verifier.verify("a.b.c")), /invalid/);
  } finally {
    await jwks.close();
  }
});

Deno.test("tokens signed with the project's shared secret are verified; others refused", async () => {
  const secret = "super-secret-jwt-token-with-at-least-32-characters-long";
  const verifier = createTokenVerifier({ secret });
  const token = await issueAccessToken({ id: USER, email: "x@y.z" }, {
    secret,
  });
  assert.equal((await verifier.verify(token)).sub, USER);
  const expired = await issueAccessToken({ id: USER }, {
    secret,
    expiresInSeconds: -10,
  });
  assert.match(await refusal(verifier.verify(expired)), /expired/);
  const forged = await issueAccessToken({ id: USER }, {
    secret: `${secret}-not`,
  });
  assert.match(await refusal(verifier.verify(forged)), /signature/);
  // A token whose header says "none" or a different algorithm is refused.
  const [, payload] = token.split(".");
  const none = `${
    btoa(JSON.stringify({ alg: "none", typ: "JWT" })).replace(/=+$/, "")
  }.${payload}.x`;
  assert.match(await refusal(verifier.verify(none)), /invalid|signature/);
});

Deno.test("a token without an expiry (exp) is refused, however well signed", async () => {
  const secret = "shared-secret-of-the-project-0123456789abcdef";
  const verifier = createTokenVerifier({ secret });
  const forever = await new SignJWT({ role: "authenticated" })
    .setProtectedHeader({ alg: "HS256" })
    .setSubject(USER)
    .setAudience("authenticated")
    .setIssuedAt()
    .sign(new TextEncoder().encode(secret));
  assert.match(await refusal(verifier.verify(forever)), /exp/);
  const expiring = await issueAccessToken({ id: USER }, { secret });
  assert.equal((await verifier.verify(expiring)).sub, USER, "the same token with exp passes");
});
