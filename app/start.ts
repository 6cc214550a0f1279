/**
 * Starting and stopping a whole Beacon: database, settings, plugins, nightly job, HTTP.
 *
 * @module
 */
import type { BeaconConfig } from "../config/mod.ts";
import type { Database } from "../database/mod.ts";
import { openDatabase } from "../database/open.ts";
import { ensureSetting, putSetting } from "../database/settings.ts";
import { createApp } from "./create_app.ts";
import { createTokenVerifier } from "../auth/tokens.ts";
import { randomSecret } from "../auth/secrets.ts";
import { createFailureLimiter } from "../auth/failure_limiter.ts";
import { createSignInLimiter } from "../auth/sign_in_limiter.ts";
import { createSupabaseRefresh, createSupabaseSignIn } from "../auth/supabase.ts";
import { createLogger, type Logger } from "../log/mod.ts";
import { createForwarder, type Forwarder } from "../plugins/forwarder.ts";
import { createGroupCommit } from "../ingest/group_commit.ts";
import {
  type NightlyScheduler,
  pgCronSchedulesNightly,
  startNightlyScheduler,
} from "./nightly_scheduler.ts";
import { portError } from "./startup_error.ts";
import { type SqlPort, startSqlPort } from "./sql_port.ts";

/** A running Beacon. */
export interface RunningBeacon {
  /** Where it listens, e.g. `http://127.0.0.1:8000`. */
  url: string;
  /** The database. */
  db: Database;
  /** The ingest key in force. */
  ingestKey: string;
  /** The secret that signs local access tokens. */
  localTokenSecret: string;
  /** The forwarder. */
  forwarder: Forwarder;
  /** The nightly scheduler, when Beacon runs the nightly job itself. */
  nightly?: NightlyScheduler;
  /** Where Postgres clients reach the embedded database (`BEACON_SQL_PORT`), when on. */
  sql?: { hostname: string; port: number };
  /**
   * Stops accepting, finishes requests in flight, flushes the plugins, closes the
   * database.
   */
  shutdown(): Promise<void>;
}

/** Options for {@linkcode startBeacon}. */
export interface StartOptions {
  /** The logger. @default {a JSON-lines logger on stdout} */
  log?: Logger;
  /** Where the human-readable start banner goes. @default {console.error} */
  banner?: (line: string) => void;
}

/** The HTTP port, claimed before anything else; the app is plugged in once ready. */
interface ClaimedPort {
  /** Where it listens, e.g. `http://127.0.0.1:8000`. */
  url: string;
  /** Starts answering with `handler` (until then: 503 "starting"). */
  serve(handler: Deno.ServeHandler): void;
  /** Stops accepting and waits for requests in flight. */
  close(): Promise<void>;
}

function starting(): Response {
  return Response.json({
    error: "starting",
    message: "Beacon is starting; try again in a moment",
  }, { status: 503, headers: { "retry-after": "1" } });
}

async function claimPort(config: BeaconConfig): Promise<ClaimedPort> {
  let handler: Deno.ServeHandler = starting;
  const abort = new AbortController();
  let resolveListening: (url: string) => void;
  const listening = new Promise<string>((resolve) => (resolveListening = resolve));
  let server: Deno.HttpServer;
  try {
    server = Deno.serve({
      port: config.port,
      hostname: config.hostname,
      signal: abort.signal,
      onListen: ({ hostname, port }) => {
        const host = hostname === "0.0.0.0" ? "127.0.0.1" : hostname;
        resolveListening(`http://${host}:${port}`);
      },
    }, (request, info) => handler(request, info)); // info holds the client's address
  } catch (error) {
    throw portError(error, config.hostname, config.port);
  }
  return {
    url: await listening,
    serve(next) {
      handler = next;
    },
    async close() {
      abort.abort();
      await server.finished;
    },
  };
}

/** What has been started so far, to be stopped again when a later step fails. */
interface StartedParts {
  db?: Database;
  forwarder?: Forwarder;
  nightly?: NightlyScheduler;
  sqlPort?: SqlPort;
}

/**
 * Starts Beacon from a configuration: claims the HTTP port first (so a busy port fails
 * before the database is opened or the nightly job runs), then opens and migrates the
 * database, and serves the app. A failure on the way stops what was started and throws.
 *
 * @param config The configuration (see `fresh.config.ts`).
 * @param options Logging.
 * @returns The running Beacon.
 */
export async function startBeacon(
  config: BeaconConfig,
  options: StartOptions = {},
): Promise<RunningBeacon> {
  const started = performance.now();
  const port = await claimPort(config);
  const parts: StartedParts = {};
  try {
    return await startOnPort(config, port, parts, started, options);
  } catch (error) {
    await port.close();
    await parts.sqlPort?.server.stop();
    await parts.forwarder?.stop();
    await parts.nightly?.stop();
    await parts.db?.close();
    throw error;
  }
}

async function startOnPort(
  config: BeaconConfig,
  port: ClaimedPort,
  parts: StartedParts,
  started: number,
  options: StartOptions,
): Promise<RunningBeacon> {
  const log = options.log ?? createLogger();
  const banner = options.banner ?? ((line: string) => console.error(line));
  const { db, migrations, seeded, wasEmpty, embedded } = await openDatabase(config.database, {
    seedDemoData: config.seedDemoData,
  });
  parts.db = db;
  log.info("database ready", {
    kind: config.database.kind,
    migrations: migrations.version,
    applied_now: migrations.applied.length,
    seeded,
  });

  let ingestKey = config.ingestKey;
  let ingestKeyCreated = false;
  if (!ingestKey) {
    const stored = await ensureSetting(
      db,
      "ingest_key",
      () => `bk_${randomSecret(24)}`,
    );
    ingestKey = stored.value;
    ingestKeyCreated = stored.created;
  }
  if (config.rawRetentionDays !== undefined) {
    await putSetting(db, "raw_retention_days", String(config.rawRetentionDays));
  }
  const localTokenSecret = (await ensureSetting(db, "local_jwt_secret", () => randomSecret(48)))
    .value;
  const sqlPort = parts.sqlPort = await startSqlPort(config, { db, embedded, log });

  // The first superuser: the configured one, or on a brand-new database without demo data
  // admin@localhost with a generated password, printed once.
  let createdAdmin: { email: string; password: string } | undefined;
  if (config.auth.mode === "local") {
    const wanted = config.admin ??
      (wasEmpty && !seeded ? { email: "admin@localhost", password: randomSecret(15) } : undefined);
    if (wanted) {
      const [{ exists }] = await db.query<{ exists: boolean }>(
        "select exists (select 1 from auth.users where lower(email) = lower($1)) as exists",
        [wanted.email],
      );
      if (!exists) {
        await db.query("select beacon.create_user($1, $2, true)", [wanted.email, wanted.password]);
        createdAdmin = wanted;
      }
    }
  }
  const verifier = config.auth.mode === "supabase"
    ? createTokenVerifier({
      jwksUrl: config.auth.jwksUrl,
      secret: config.auth.jwksUrl ? undefined : config.auth.jwtSecret,
      audience: config.auth.audience,
    })
    : createTokenVerifier({ secret: localTokenSecret, issuer: "beacon" });

  const forwarder = createForwarder({
    db,
    plugins: config.plugins,
    config: config.forwarder,
    log: log.child({ component: "forwarder" }),
  });
  parts.forwarder = forwarder;
  await forwarder.start();

  let nightly: NightlyScheduler | undefined;
  if (
    config.nightly === "always" ||
    (config.nightly === "auto" && !await pgCronSchedulesNightly(db))
  ) {
    nightly = startNightlyScheduler(db, log.child({ component: "nightly" }), {
      hourly: config.hourlyRollup,
      // The demo data just loaded closed its days itself.
      runAtStart: !seeded,
    });
    parts.nightly = nightly;
  }

  const supabaseSignIn =
    config.auth.mode === "supabase" && config.auth.url && config.auth.publishableKey
      ? createSupabaseSignIn(config.auth.url, config.auth.publishableKey)
      : undefined;
  const supabaseRefresh =
    config.auth.mode === "supabase" && config.auth.url && config.auth.publishableKey
      ? createSupabaseRefresh(config.auth.url, config.auth.publishableKey)
      : undefined;
  const app = createApp({
    db,
    config,
    log,
    verifier,
    ingestKey,
    storeEvents: createGroupCommit(db, { log: log.child({ component: "group_commit" }) }),
    forwarder,
    localTokenSecret,
    supabaseSignIn,
    supabaseRefresh,
    signInLimiter: createSignInLimiter(db),
    ingestKeyFailures: createFailureLimiter({
      max: config.limits.maxIngestKeyFailures,
      windowMs: 60_000,
    }),
    islandsDir: config.islandsDir,
  });
  port.serve(app.fetch);
  const url = port.url;

  banner(
    `Beacon is running at ${url} (ready in ${Math.round(performance.now() - started)} ms)`,
  );
  banner(`  dashboard: ${url}/analytics`);
  banner(`  health:    ${url}/api/v1/health`);
  banner(`  ingestion: POST ${url}/api/v1/events`);
  if (ingestKeyCreated) {
    banner(
      `  ingest key (generated now, stored in beacon.settings; shown once): ${ingestKey}`,
    );
  }
  if (seeded) {
    banner(
      "  demo data loaded: sign in as admin@beacon.local with password beacon-demo",
    );
  }
  if (createdAdmin) {
    banner(
      config.admin
        ? `  superuser created: sign in as ${createdAdmin.email} with BEACON_ADMIN_PASSWORD`
        : `  superuser created (shown once): sign in as ${createdAdmin.email} with password ${createdAdmin.password}`,
    );
  }
  sqlPort?.lines.forEach((line) => banner(line));
  if (config.plugins.length > 0) {
    banner(`  plugins:   ${config.plugins.map((p) => p.name).join(", ")}`);
  }

  let stopping: Promise<void> | undefined;
  return {
    url,
    db,
    ingestKey,
    localTokenSecret,
    forwarder,
    nightly,
    sql: sqlPort && { hostname: sqlPort.server.hostname, port: sqlPort.server.port },
    shutdown() {
      stopping ??= (async () => {
        await port.close();
        await sqlPort?.server.stop();
        await forwarder.stop();
        await nightly?.stop();
        await db.close();
        log.info("stopped");
      })();
      return stopping;
    },
  };
}
