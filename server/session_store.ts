/**
 * Server-side sessions (`beacon.sessions`): created at sign-in, looked up on every request,
 * revoked at sign-out. The cookie holds a random secret; the table holds its SHA-256, so a
 * copy of the table signs nobody in.
 *
 * @module
 */
import { createHash, randomBytes } from "node:crypto";
import type { Queryable } from "../database/mod.ts";

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
