/**
 * The app's dependencies: what every route reaches through Hono's context (`c.var.deps`),
 * assembled once by `app/start.ts` (or a test) and handed to `app/create_app.ts`.
 *
 * @module
 */
import type { Database } from "../database/mod.ts";
import type { BeaconConfig } from "../config/mod.ts";
import type { Logger } from "../log/mod.ts";
import type { TokenVerifier } from "../auth/tokens.ts";
import type { Forwarder } from "../plugins/forwarder.ts";
import type { FailureLimiter } from "../auth/failure_limiter.ts";
import type { SignInLimiter } from "../auth/sign_in_limiter.ts";
import type { SessionTokens, Viewer } from "../auth/sessions.ts";
import type { StoreEvents } from "../ingest/store.ts";

/** The dependencies every route reaches: the running app's parts, passed down at start. */
export interface AppDeps {
  /** The database. */
  db: Database;
  /** The configuration. */
  config: BeaconConfig;
  /** The logger. */
  log: Logger;
  /** Checks access tokens. */
  verifier: TokenVerifier;
  /** The key for anonymous ingestion. */
  ingestKey: string;
  /**
   * Stores one request's checked events, resolving once committed: the group commit made
   * at start (`ingest/group_commit.ts`). Every ingestion endpoint stores through it.
   */
  storeEvents: StoreEvents;
  /** Feeds plugins; told when new events are stored. */
  forwarder?: Forwarder;
  /** Signs sessions of local accounts (embedded and Postgres modes). */
  localTokenSecret: string;
  /**
   * Signs in with Supabase Auth (Supabase mode): resolves with the access and refresh
   * tokens, or null for a wrong email or password.
   */
  supabaseSignIn?: (email: string, password: string) => Promise<SessionTokens | null>;
  /**
   * Renews a Supabase session (Supabase mode): resolves with new tokens, or null when the
   * refresh token is refused.
   */
  supabaseRefresh?: (refreshToken: string) => Promise<SessionTokens | null>;
  /** Sign-in attempts per account and per address, counted in the database. */
  signInLimiter: SignInLimiter;
  /** Failed ingestion credentials (a wrong ingest key, a bad token) per client address. */
  ingestKeyFailures: FailureLimiter;
  /** Where the island bundles are. */
  islandsDir: string;
}

/** Hono's environment for Beacon's routes: the dependencies, the request id, the viewer. */
export type AppEnv = {
  Variables: {
    deps: AppDeps;
    requestId: string;
    viewer: Viewer;
  };
};
