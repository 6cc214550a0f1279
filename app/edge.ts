/**
 * Beacon on the edge (a Supabase Edge Function, Deno Deploy): the same app as the server
 * (`create_app.ts`), assembled without anything that needs a disk, a subprocess or a
 * background loop. The database is the project's PostgreSQL, already migrated by
 * `supabase db push`; sign-in is Supabase Auth; the island bundles were built before
 * deploy; plugins are fed by drains (`POST /api/v1/plugins/drain`), not by a loop.
 *
 * What is done once per isolate, at start, and never per request: connecting, reading the
 * two stored secrets (the ingest key unless configured, and the CSRF signing secret, shared
 * by every isolate through `beacon.settings`), building the app.
 *
 * @module
 */
import type { Hono } from "hono";
import { type BeaconConfig, ConfigError } from "../config/mod.ts";
import type { Database } from "../database/mod.ts";
import { openPostgres } from "../database/postgres.ts";
import { ensureSetting } from "../database/settings.ts";
import { createApp } from "./create_app.ts";
import type { AppEnv } from "../routes/_deps.ts";
import { createTokenVerifier } from "../auth/tokens.ts";
import { randomSecret } from "../auth/secrets.ts";
import { createFailureLimiter } from "../auth/failure_limiter.ts";
import { createSignInLimiter } from "../auth/sign_in_limiter.ts";
import { createSupabaseRefresh, createSupabaseSignIn } from "../auth/supabase.ts";
import { createLogger, type Logger } from "../log/mod.ts";
import { drainPlugins, type DrainReport } from "../plugins/drain.ts";
import { createGroupCommit } from "../ingest/group_commit.ts";

/** A Beacon serving from an edge isolate. */
export interface EdgeBeacon {
  /** The app (under the configured path prefix); serve `app.fetch`. */
  app: Hono<AppEnv>;
  /** The database connection. */
  db: Database;
  /** One drain, as `POST /api/v1/plugins/drain` runs it (for `Deno.cron`). */
  drain(): Promise<DrainReport>;
  /** Closes the database connection. */
  close(): Promise<void>;
}

/**
 * Assembles the edge app. Refuses a configuration only a server can serve.
 *
 * @param config The configuration (see `config/from_edge_env.ts`).
 * @param options The logger. @default {JSON lines on stdout}
 * @returns The edge Beacon.
 * @throws {ConfigError} For the embedded database or local accounts.
 */
export async function createEdgeBeacon(
  config: BeaconConfig,
  options: { log?: Logger } = {},
): Promise<EdgeBeacon> {
  if (config.database.kind !== "postgres") {
    throw new ConfigError("DATABASE_URL", "the embedded database is server-only");
  }
  if (config.auth.mode !== "supabase") {
    throw new ConfigError("SUPABASE_URL", "local accounts are server-only");
  }
  const auth = config.auth;
  const log = options.log ?? createLogger();
  // A few connections: an isolate serves few requests at once, and many isolates share
  // the database (use Supabase's pooler URL for more).
  const db = openPostgres(config.database.url, { max: 3 });
  try {
    const ingestKey = config.ingestKey ??
      (await ensureSetting(db, "ingest_key", () => `bk_${randomSecret(24)}`)).value;
    const csrfSecret = (await ensureSetting(db, "local_jwt_secret", () => randomSecret(48)))
      .value;
    const signIn = auth.url && auth.publishableKey;
    const app = createApp({
      db,
      config,
      log,
      verifier: createTokenVerifier({
        jwksUrl: auth.jwksUrl,
        secret: auth.jwksUrl ? undefined : auth.jwtSecret,
        audience: auth.audience,
      }),
      ingestKey,
      localTokenSecret: csrfSecret,
      supabaseSignIn: signIn ? createSupabaseSignIn(auth.url!, auth.publishableKey!) : undefined,
      supabaseRefresh: signIn ? createSupabaseRefresh(auth.url!, auth.publishableKey!) : undefined,
      // Counted in the database: every isolate shares the lockout.
      signInLimiter: createSignInLimiter(db),
      ingestKeyFailures: createFailureLimiter({
        max: config.limits.maxIngestKeyFailures,
        windowMs: 60_000,
      }),
      islandsDir: config.islandsDir,
      // Requests an isolate serves at once share a commit, as on the server.
      storeEvents: createGroupCommit(db, { log: log.child({ component: "group_commit" }) }),
    });
    return {
      app,
      db,
      drain: () =>
        drainPlugins({
          db,
          plugins: config.plugins,
          batchSize: config.forwarder.batchSize,
          budgetMs: config.drain.budgetMs,
          log: log.child({ component: "drain" }),
        }),
      close: () => db.close(),
    };
  } catch (error) {
    await db.close();
    throw error;
  }
}
