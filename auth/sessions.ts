/**
 * Server-side sessions (`beacon.sessions`): created at sign-in, looked up on every request
 * (renewing a Supabase session's tokens when they run out), revoked at sign-out. The cookie
 * holds a random secret; the table holds its SHA-256, so a copy of the table signs nobody
 * in. Reading the cookie from a request is `routes/_viewer.ts`'s job.
 *
 * @module
 */
import { createHash, randomBytes } from "node:crypto";
import { decodeJwt } from "jose";
import type { Queryable } from "../database/mod.ts";
import type { Claims, TokenVerifier } from "./tokens.ts";

/** The session cookie's name. */
export const SESSION_COOKIE = "beacon_session";
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
  /** Whether the database says they are an analyst (reads reports, no admin action). */
  analyst?: boolean;
  /** The session cookie's secret, when signed in by cookie (not by bearer token). */
  sessionSecret?: string;
}

/** A live (not expired, not revoked) session. */
export interface StoredSession {
  /** The signed-in user's id. */
  userId: string;
  /** The user's email, from `auth.users`. */
  email: string | null;
  /** Supabase mode: the current access token. */
  accessToken: string | null;
  /** Supabase mode: the refresh token. */
  refreshToken: string | null;
  /** When the session ends. */
  expiresAt: Date;
}

/** Supabase tokens kept with a session. */
export interface SessionTokens {
  /** The access token. */
  accessToken: string;
  /** The refresh token. */
  refreshToken: string;
}

/** What a session cookie's secret looks like (32 random bytes, base64url). */
export const SESSION_SECRET = /^[\w-]{43}$/;

function sessionId(secret: string): string {
  return createHash("sha256").update(secret).digest("hex");
}

/**
 * Creates a session and returns the secret for the cookie.
 *
 * @param db The database (as its owner).
 * @param session The user, how long it lasts, and the Supabase tokens (Supabase mode).
 * @returns The secret to put in the cookie.
 */
export async function createSession(
  db: Queryable,
  session: { userId: string; seconds: number; tokens?: SessionTokens },
): Promise<string> {
  const secret = randomBytes(32).toString("base64url");
  await db.query(
    "delete from beacon.sessions where expires_at < now() - interval '1 day'",
  );
  await db.query(
    `insert into beacon.sessions (id, user_id, expires_at, access_token, refresh_token)
     values ($1, $2, now() + make_interval(secs => $3), $4, $5)`,
    [
      sessionId(secret),
      session.userId,
      session.seconds,
      session.tokens?.accessToken ?? null,
      session.tokens?.refreshToken ?? null,
    ],
  );
  return secret;
}

/**
 * The live session a cookie's secret names, or null (unknown, expired or revoked).
 *
 * @param db The database.
 * @param secret The cookie's secret.
 * @returns The session, or null.
 */
export async function findSession(db: Queryable, secret: string): Promise<StoredSession | null> {
  if (!SESSION_SECRET.test(secret)) return null;
  const [row] = await db.query<{
    user_id: string;
    email: string | null;
    access_token: string | null;
    refresh_token: string | null;
    expires_at: string | Date;
  }>(
    `select s.user_id::text, u.email::text, s.access_token, s.refresh_token, s.expires_at
       from beacon.sessions s
       join auth.users u on u.id = s.user_id
      where s.id = $1 and s.revoked_at is null and s.expires_at > now()`,
    [sessionId(secret)],
  );
  if (!row) return null;
  return {
    userId: row.user_id,
    email: row.email,
    accessToken: row.access_token,
    refreshToken: row.refresh_token,
    expiresAt: new Date(row.expires_at),
  };
}

/**
 * Stores refreshed Supabase tokens and moves the session's end `seconds` from now.
 *
 * @param db The database.
 * @param secret The cookie's secret.
 * @param update The new tokens and how long the session now lasts.
 */
export async function refreshSession(
  db: Queryable,
  secret: string,
  update: { tokens: SessionTokens; seconds: number },
): Promise<void> {
  await db.query(
    `update beacon.sessions
        set access_token = $2, refresh_token = $3, refreshed_at = now(),
            expires_at = now() + make_interval(secs => $4)
      where id = $1 and revoked_at is null`,
    [sessionId(secret), update.tokens.accessToken, update.tokens.refreshToken, update.seconds],
  );
}

/**
 * Ends a session (sign-out): it is refused from now on, and its Supabase tokens are
 * forgotten.
 *
 * @param db The database.
 * @param secret The cookie's secret.
 */
export async function revokeSession(db: Queryable, secret: string): Promise<void> {
  if (!SESSION_SECRET.test(secret)) return;
  await db.query(
    `update beacon.sessions
        set revoked_at = coalesce(revoked_at, now()), access_token = null, refresh_token = null
      where id = $1`,
    [sessionId(secret)],
  );
}

/** What {@linkcode claimsOfSession} needs. */
export interface SessionCheck {
  /** The database (as its owner). */
  db: Queryable;
  /** Verifies a Supabase session's access token. */
  verifier: TokenVerifier;
  /** Renews Supabase tokens (Supabase mode); null when the refresh token is refused. */
  refresh?: (refreshToken: string) => Promise<SessionTokens | null>;
  /** Told when the tokens were renewed: the session now lasts {@linkcode SESSION_SECONDS}. */
  onRenewed?: () => void;
  /** Told when Supabase refused the refresh token and the session was ended. */
  onRefreshRefused?: () => void;
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

/**
 * The claims of a live session: Beacon's own for a local account, else its Supabase access
 * token's, renewed first when it is about to expire (then the session lasts
 * {@linkcode SESSION_SECONDS} from now, and `check.onRenewed` is told so the cookie can too).
 *
 * @param secret The cookie's secret.
 * @param check The database, the verifier and the refresh.
 * @returns The claims, or null when the session is unknown, over, or its token refused.
 */
export async function claimsOfSession(
  secret: string,
  check: SessionCheck,
): Promise<Claims | null> {
  const session = await findSession(check.db, secret);
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
    const fresh = await refreshTokens(secret, session, check);
    if (!fresh) return null;
    token = fresh.accessToken;
    check.onRenewed?.();
  }
  try {
    return await check.verifier.verify(token);
  } catch {
    return null;
  }
}

/** Renews a Supabase session's tokens (once, however many requests ask at the same time). */
function refreshTokens(
  secret: string,
  session: StoredSession,
  check: SessionCheck,
): Promise<SessionTokens | null> {
  let pending = refreshing.get(secret);
  if (!pending) {
    pending = (async () => {
      if (!check.refresh || !session.refreshToken) return null;
      const fresh = await check.refresh(session.refreshToken);
      if (!fresh) {
        check.onRefreshRefused?.();
        await revokeSession(check.db, secret);
        return null;
      }
      await refreshSession(check.db, secret, { tokens: fresh, seconds: SESSION_SECONDS });
      return fresh;
    })().finally(() => refreshing.delete(secret));
    refreshing.set(secret, pending);
  }
  return pending;
}
