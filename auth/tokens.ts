/**
 * Access tokens: verifying them (Supabase's, signed with an asymmetric key published as
 * JWKS or with the project's shared secret, and Beacon's own in local mode) and issuing
 * Beacon's own.
 *
 * @module
 */
import { createRemoteJWKSet, errors, jwtVerify, SignJWT } from "jose";
import { ApiError } from "../http/errors.ts";

/** The verified claims of a signed-in user's access token. */
export interface Claims {
  /** The user's id (auth.users.id). */
  sub: string;
  /** The Postgres role the token asks for; `authenticated` for signed-in users. */
  role: string;
  /** The user's email, when the token carries it. */
  email?: string;
  /** Every other claim. */
  [claim: string]: unknown;
}

/** Why a token was refused: answered with `401 {"error": "invalid_token", "message"}`. */
export class TokenError extends ApiError {
  /** @param reason What is wrong with the token, for the client. */
  constructor(reason: string) {
    super(401, "invalid_token", reason);
    this.name = "TokenError";
  }
}

/** Checks access tokens. */
export interface TokenVerifier {
  /**
   * Verifies signature, expiry (`exp` is required) and audience, and that the token is a
   * signed-in user's.
   *
   * @param token The compact JWT.
   * @returns Its claims.
   * @throws {TokenError} When it is refused.
   */
  verify(token: string): Promise<Claims>;
}

/** Options for {@linkcode createTokenVerifier}. */
export interface TokenVerifierOptions {
  /** Where the signing keys are published (JWKS). */
  jwksUrl?: string;
  /** A shared HS256 secret. */
  secret?: string;
  /** The required `aud`. @default {"authenticated"} */
  audience?: string;
  /** The required `iss`, if any. @default {undefined} */
  issuer?: string;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Creates a verifier for JWKS-signed tokens or shared-secret tokens.
 *
 * @param options Where the keys are, and what the token must say.
 * @returns The verifier.
 *
 * @example Supabase with asymmetric keys
 * ```ts
 * const verifier = createTokenVerifier({
 *   jwksUrl: "https://abc.supabase.co/auth/v1/.well-known/jwks.json",
 * });
 * const claims = await verifier.verify(accessToken);
 * ```
 */
export function createTokenVerifier(
  options: TokenVerifierOptions,
): TokenVerifier {
  if (!options.jwksUrl && !options.secret) {
    throw new Error("createTokenVerifier needs jwksUrl or secret");
  }
  const audience = options.audience ?? "authenticated";
  const jwks = options.jwksUrl ? createRemoteJWKSet(new URL(options.jwksUrl)) : undefined;
  const secret = options.secret ? new TextEncoder().encode(options.secret) : undefined;
  return {
    async verify(token: string): Promise<Claims> {
      if (!/^[\w-]+\.[\w-]+\.[\w-]+$/.test(token)) {
        throw new TokenError("malformed token");
      }
      let payload: Record<string, unknown>;
      try {
        // Every token must expire: one without `exp` would be good forever.
        const verifyOptions = { audience, issuer: options.issuer, requiredClaims: ["exp"] };
        payload = jwks
          ? (await jwtVerify(token, jwks, {
            ...verifyOptions,
            algorithms: ["RS256", "ES256", "EdDSA", "PS256"],
          })).payload
          : (await jwtVerify(token, secret!, {
            ...verifyOptions,
            algorithms: ["HS256"],
          }))
            .payload;
      } catch (error) {
        if (error instanceof errors.JWTExpired) {
          throw new TokenError("token expired");
        }
        if (error instanceof errors.JWTClaimValidationFailed) {
          throw new TokenError(
            `token refused: ${error.claim} claim is not acceptable`,
          );
        }
        if (
          error instanceof errors.JWSSignatureVerificationFailed ||
          error instanceof errors.JWKSNoMatchingKey
        ) {
          throw new TokenError("token signature does not verify");
        }
        if (error instanceof errors.JOSEError) {
          throw new TokenError("invalid token");
        }
        throw error;
      }
      const sub = payload.sub;
      if (typeof sub !== "string" || !UUID.test(sub)) {
        throw new TokenError("token has no user (sub) claim");
      }
      const role = typeof payload.role === "string" ? payload.role : "authenticated";
      if (role !== "authenticated") {
        throw new TokenError(`token role "${role}" is not a signed-in user`);
      }
      return { ...payload, sub, role } as Claims;
    },
  };
}

/** Options for {@linkcode issueAccessToken}. */
export interface IssueOptions {
  /** The HS256 secret. */
  secret: string;
  /** Lifetime in seconds. @default {3600} */
  expiresInSeconds?: number;
  /** The `iss` claim. @default {"beacon"} */
  issuer?: string;
}

/**
 * Issues an access token for a local account, shaped like Supabase Auth's (`sub`,
 * `role: authenticated`, `aud: authenticated`, `email`).
 *
 * @param user The user's id and email.
 * @param options The secret and lifetime.
 * @returns The compact JWT.
 */
export function issueAccessToken(
  user: { id: string; email?: string | null },
  options: IssueOptions,
): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ role: "authenticated", email: user.email ?? undefined })
    .setProtectedHeader({ alg: "HS256", typ: "JWT" })
    .setSubject(user.id)
    .setAudience("authenticated")
    .setIssuer(options.issuer ?? "beacon")
    .setIssuedAt(now)
    .setExpirationTime(now + (options.expiresInSeconds ?? 3600))
    .sign(new TextEncoder().encode(options.secret));
}
