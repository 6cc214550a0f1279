/**
 * A Beacon app on a migrated in-memory PGlite, for handler tests with `app.request`.
 *
 * @module
 */
import { createApp } from "../../app/create_app.ts";
import { type BeaconConfigInput, defineConfig } from "../../config/mod.ts";
import { createTokenVerifier, issueAccessToken } from "../../auth/tokens.ts";
import { silentLogger } from "../../log/mod.ts";
import { createFailureLimiter } from "../../auth/failure_limiter.ts";
import { createSignInLimiter, SIGN_IN_LIMITS } from "../../auth/sign_in_limiter.ts";
import type { Database } from "../../database/mod.ts";
import type { Forwarder } from "../../plugins/forwarder.ts";
import { openMigratedPglite } from "./database.ts";
import { createGroupCommit } from "../../ingest/group_commit.ts";
import type { StoreEvents } from "../../ingest/store.ts";
import { EDGE_TARGET } from "./target.ts";
import { createEdgeTestApp, type RequestableApp } from "./edge_app.ts";

/** The secret test tokens are signed with. */
export const TEST_SECRET = "test-secret-that-is-long-enough-for-hs256-0123456789";
/** The ingest key of test apps. */
export const TEST_INGEST_KEY = "bk_test_ingest_key_0123456789";

/** Options for {@linkcode createTestApp}. */
export interface TestAppOptions {
  /** A database to use instead of a new PGlite. */
  db?: Database;
  /** Configuration overrides. */
  config?: BeaconConfigInput;
  /** A forwarder to tell about new events. */
  forwarder?: Forwarder;
  /** How events are stored. @default {a group commit on the database} */
  storeEvents?: StoreEvents;
}

/** Builds an app on a migrated database; `close()` closes the database it opened. */
export async function createTestApp(options: TestAppOptions = {}) {
  const db = options.db ?? await openMigratedPglite();
  const config = defineConfig({ seedDemoData: false, ...options.config });
  const app = createApp({
    db,
    config,
    log: silentLogger,
    verifier: createTokenVerifier({ secret: TEST_SECRET, issuer: "beacon" }),
    ingestKey: TEST_INGEST_KEY,
    storeEvents: options.storeEvents ?? createGroupCommit(db),
    forwarder: options.forwarder,
    localTokenSecret: TEST_SECRET,
    signInLimiter: createSignInLimiter(db, { ...SIGN_IN_LIMITS, windowMs: 60_000 }),
    ingestKeyFailures: createFailureLimiter({
      max: config.limits.maxIngestKeyFailures,
      windowMs: 60_000,
    }),
    islandsDir: config.islandsDir,
  });
  return {
    app,
    db,
    /** An access token for a user, as Beacon issues them. */
    token: (userId: string, expiresInSeconds = 3600) =>
      issueAccessToken({ id: userId }, {
        secret: TEST_SECRET,
        expiresInSeconds,
      }),
    close: () => options.db ? Promise.resolve() : db.close(),
  };
}

/**
 * Builds a test app (see {@linkcode createTestApp}) that all the tests of one file share, and
 * closes its database once they have all run, through `Deno.test.afterAll`.
 *
 * Why `Deno.test.afterAll` and not the alternatives:
 * - a last `Deno.test("close the test database")` is not a test: it cannot fail, counts as a
 *   pass, and does not run under `--filter`, so a filtered run leaks the database;
 * - one `Deno.test` with a `t.step` per case closes in a `finally`, but `--filter` then selects
 *   only whole files, and the cases stop being tests of their own in the report;
 * - a `globalThis` `unload` listener runs, but nothing awaits what it starts: the process may
 *   exit before an asynchronous `close()` has finished.
 *
 * `afterAll` runs once after the file's last test, filtered or failed, and is awaited; an
 * error in it fails the run. Opening happens at the module's top level, outside any test, so
 * the per-test resource and op sanitizers stay on for every test.
 *
 * @param options As for {@linkcode createTestApp}.
 * @returns The app, its database and a token maker; closing is taken care of.
 *
 * @example One app for the file
 * ```ts
 * const t = await createSharedTestApp({ config: { trustedProxies: ["10.0.0.0/8"] } });
 * Deno.test("the login page answers", async () => {
 *   assert.equal((await t.app.request("/login")).status, 200);
 * });
 * ```
 */
export async function createSharedTestApp(
  options: TestAppOptions = {},
): Promise<Awaited<ReturnType<typeof createTestApp>>> {
  const t = await createTestApp(options);
  Deno.test.afterAll(() => t.close());
  return t;
}

/** What {@linkcode createSuiteApp} gives a suite, on either target. */
export interface SuiteApp {
  /** The app to `request` (the server's in process, or the edge function over HTTP). */
  app: RequestableApp;
  /** The database behind it (PGlite on the server target, PostgreSQL 15 on the edge). */
  db: Database;
  /** An access token for a user, as the target's sign-in issues them. */
  token(userId: string, expiresInSeconds?: number): Promise<string>;
  /** Closes what it opened. */
  close(): Promise<void>;
}

/**
 * The app of a suite that runs on both targets (see `target.ts`): {@linkcode createTestApp},
 * or with `BEACON_TEST_TARGET=edge` the edge function (`edge_app.ts`). Only configuration with
 * an environment variable may be given; a forwarder or a store of one's own are server-only.
 *
 * @param options As for {@linkcode createTestApp}.
 * @returns The app, its database, a token maker and `close()`.
 */
export async function createSuiteApp(options: TestAppOptions = {}): Promise<SuiteApp> {
  if (!EDGE_TARGET) return await createTestApp(options);
  if (options.forwarder || options.storeEvents) {
    throw new Error("a forwarder or store of a suite's own is server-only");
  }
  return await createEdgeTestApp({ ...options, ingestKey: TEST_INGEST_KEY });
}

/**
 * {@linkcode createSuiteApp} shared by a file's tests and closed after them (as
 * {@linkcode createSharedTestApp}).
 *
 * @param options As for {@linkcode createTestApp}.
 * @returns The app, its database and a token maker; closing is taken care of.
 */
export async function createSharedSuiteApp(options: TestAppOptions = {}): Promise<SuiteApp> {
  const t = await createSuiteApp(options);
  Deno.test.afterAll(() => t.close());
  return t;
}

/** Creates an auth user (and so a profile); superuser when asked. Returns the id. */
export async function createUser(
  db: Database,
  email: string,
  superuser = false,
): Promise<string> {
  const [{ id }] = await db.query<{ id: string }>(
    `insert into auth.users (id, email, aud, role, created_at)
     values (gen_random_uuid(), $1, 'authenticated', 'authenticated', now()) returning id::text`,
    [email],
  );
  if (superuser) {
    await db.query(
      "update public.profiles set is_superuser = true where id = $1",
      [id],
    );
  }
  return id;
}
