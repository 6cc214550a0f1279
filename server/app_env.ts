/**
 * What every route can reach through Hono's context (`c.var.deps`).
 *
 * @module
 */
import type { Database } from "../database/mod.ts";
import type { BeaconConfig } from "./config.ts";
import type { Logger } from "./log.ts";
import type { TokenVerifier } from "./auth.ts";
import type { Forwarder } from "../plugins/forwarder.ts";
import type { FailureLimiter } from "./rate_limit.ts";
import type { Viewer } from "./session.ts";
import type { SessionTokens } from "./session_store.ts";

/** The running app's parts, passed down from `main.ts`. */
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
  /** Failed sign-ins per account and per address. */
  signInLimits: { account: FailureLimiter; address: FailureLimiter };
  /** Failed ingestion credentials (a wrong ingest key, a bad token) per client address. */
  ingestKeyFailures: FailureLimiter;
  /** Where the island bundles are. */
  islandsDir: string;
}

/** Hono's environment for Beacon's apps. */
export type AppEnv = {
  Variables: {
    deps: AppDeps;
    requestId: string;
    viewer: Viewer;
  };
};
