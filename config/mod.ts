/**
 * Beacon's configuration: its shape, its defaults and its checks. `fresh.config.ts` calls
 * {@linkcode defineConfig} (with what `config/from_env.ts` read from the environment);
 * everything else receives the resulting object and never reads the environment itself.
 * Each part's type lives with the module that uses it: {@linkcode DatabaseConfig} in
 * `database/mod.ts`, {@linkcode ForwarderConfig} in `plugins/forwarder.ts`.
 *
 * @module
 */
import type { DatabaseConfig } from "../database/mod.ts";
import type { BeaconPlugin } from "../plugins/mod.ts";
import type { ForwarderConfig } from "../plugins/forwarder.ts";
import type { SqlLimits } from "../analytics/sql_runner.ts";
import { parseAddressRange } from "../http/client_address.ts";
import { resolveSqlPort, type SqlPortConfig, type SqlPortInput } from "./sql_port.ts";
import { isPathPrefix, ROOT_SITE, type SiteConfig } from "../http/base_path.ts";
import type { DrainConfig } from "../plugins/drain.ts";

export type { DatabaseConfig, DrainConfig, ForwarderConfig, SiteConfig };

/** Who signs people in. */
export type AuthConfig =
  | { mode: "local" }
  | {
    mode: "supabase";
    /** The project's URL, e.g. `https://abc.supabase.co`. */
    url?: string;
    /** Where the project's signing keys are published (JWKS). */
    jwksUrl?: string;
    /** The project's legacy shared JWT secret (HS256), instead of JWKS. */
    jwtSecret?: string;
    /** The `aud` claim access tokens must carry. */
    audience: string;
    /** The publishable (anon) key, for signing in to the dashboard with Supabase Auth. */
    publishableKey?: string;
  };

/** Limits on what one request may carry. */
export interface Limits {
  /** Largest request body in bytes. */
  maxBodyBytes: number;
  /** Most events in one request. */
  maxBatchEvents: number;
  /** Largest `properties` of one event, serialized, in bytes. */
  maxPropertiesBytes: number;
  /** Statement timeout for reads made as a signed-in user, in milliseconds. */
  statementTimeoutMs: number;
  /** How long a whole ingestion body may take to arrive, in milliseconds (then 408). */
  bodyTimeoutMs: number;
  /** Most ingestion bodies being read at once (then 503 with `retry-after`). */
  maxBodiesInFlight: number;
  /** Failed ingestion credentials per client address per minute (then 429). */
  maxIngestKeyFailures: number;
}

/** Beacon's whole configuration. */
export interface BeaconConfig {
  /** The HTTP port. */
  port: number;
  /** The address to listen on. */
  hostname: string;
  /** The database. */
  database: DatabaseConfig;
  /** Whether to load `supabase/seed.sql` when the database has no users yet. */
  seedDemoData: boolean;
  /** Sign-in. */
  auth: AuthConfig;
  /** The key for anonymous ingestion; generated and stored on first start when unset. */
  ingestKey?: string;
  /**
   * A second key PostHog's SDKs may send as their project key (e.g. the `phc_...` key already
   * in a team's `posthog.init`), accepted by the PostHog capture endpoints only, never by
   * `/api/v1/events`; unset: those endpoints take the ingest key alone.
   */
  posthogProjectKey?: string;
  /** The plugins every stored event is forwarded to. */
  plugins: BeaconPlugin[];
  /** Request limits. */
  limits: Limits;
  /** The SQL page's limits (rows shown, CSV rows, timeout, embedded cost). @default {DEFAULT_SQL_LIMITS} */
  sqlLimits?: Partial<SqlLimits>;
  /** Plugin delivery. */
  forwarder: ForwarderConfig;
  /**
   * Run the nightly aggregation from Beacon itself: `auto` does so only where pg_cron has
   * not scheduled it.
   */
  nightly: "auto" | "always" | "never";
  /**
   * When Beacon runs the nightly job itself, also roll up the ended hours at five past
   * every hour (`analytics.run_hourly_rollup()`), so today's reads cost only the open hour,
   * and snapshot the hours not rolled up every minute (`analytics.refresh_live_parts()`), so
   * they cost only the last minute's events.
   */
  hourlyRollup: boolean;
  /**
   * Days raw events are kept (stored in the database at start as `raw_retention_days`, which
   * the nightly maintenance honours, under pg_cron too); unset: the stored value stays.
   */
  rawRetentionDays?: number;
  /** The superuser to create on the very first start (local accounts only). */
  admin?: { email: string; password: string };
  /** Where the built island bundles are served from. */
  islandsDir: string;
  /**
   * Reverse proxies (IP addresses and CIDR ranges) whose `X-Forwarded-For` and
   * `X-Forwarded-Proto` are believed. Empty: those headers are ignored.
   */
  trustedProxies: string[];
  /**
   * A header a trusted proxy sets to the client's address, overwriting any the client sent
   * (`cf-connecting-ip` behind Cloudflare, as Supabase's hosted functions are). When set, it is
   * read from trusted peers instead of `X-Forwarded-For`. Lower case; unset: none.
   */
  clientAddressHeader?: string;
  /** Postgres clients on the embedded database (`BEACON_SQL_PORT`); off when unset. */
  sql?: SqlPortConfig;
  /** Where the app is served (a path prefix on the edge) and whether pages are on. */
  site: SiteConfig;
  /** Plugin drains (`POST /api/v1/plugins/drain`), for deployments without a loop. */
  drain: DrainConfig;
}

/** The configuration as written in `fresh.config.ts`: every field optional. */
export interface BeaconConfigInput {
  /** The HTTP port. @default {8000} */
  port?: number;
  /** The address to listen on. @default {"0.0.0.0"} */
  hostname?: string;
  /** The database. @default {{ kind: "embedded", dataDir: "./data" }} */
  database?: DatabaseConfig;
  /** Load the demo data into an empty database. @default {true when embedded} */
  seedDemoData?: boolean;
  /** Sign-in. @default {{ mode: "local" }} */
  auth?: AuthConfig;
  /** The ingest key. @default {generated and stored on first start} */
  ingestKey?: string;
  /** A second project key for PostHog's SDKs, on the capture endpoints only. @default {none} */
  posthogProjectKey?: string;
  /** Plugins. @default {[]} */
  plugins?: BeaconPlugin[];
  /**
   * Request limits.
   * @default {1 MiB bodies within 30 s, 64 bodies read at once, 1,000 events, 32 KiB properties, 8 s reads, 20 failed ingest keys a minute per address}
   */
  limits?: Partial<Limits>;
  /** Plugin delivery. @default {batches of 500, polled every second, backoff 1 s to 60 s} */
  forwarder?: Partial<ForwarderConfig>;
  /** Beacon's own nightly job. @default {"auto"} */
  nightly?: "auto" | "always" | "never";
  /** Roll up ended hours too, when Beacon runs the nightly job itself. @default {true} */
  hourlyRollup?: boolean;
  /** Days raw events are kept. @default {what the database holds: for ever unless set} */
  rawRetentionDays?: number;
  /**
   * The superuser to create on the very first start.
   * @default {admin@localhost with a generated password, printed once}
   */
  admin?: { email: string; password: string };
  /** Where the built island bundles are. @default {"static/_islands" in the repository} */
  islandsDir?: string;
  /**
   * Reverse proxies (IP addresses or CIDR ranges, e.g. `["10.0.0.0/8", "::1"]`) whose
   * `X-Forwarded-For` / `X-Forwarded-Proto` are believed. @default {[] (none)}
   */
  trustedProxies?: string[];
  /**
   * The header a trusted proxy puts the client's address in (e.g. `cf-connecting-ip`),
   * believed instead of `X-Forwarded-For`. @default {none}
   */
  clientAddressHeader?: string;
  /** Serve the embedded database to Postgres clients (`config/sql_port.ts`). @default {off} */
  sql?: SqlPortInput;
  /** Path prefixes and pages. @default {no prefix, pages on} */
  site?: Partial<SiteConfig>;
  /** Plugin drains. @default {off (no secret), 20 s budget} */
  drain?: Partial<DrainConfig>;
}

/** A setting that is missing or wrong; the message names it. */
export class ConfigError extends Error {
  /**
   * @param setting The environment variable or field at fault.
   * @param reason What is wrong with it and what to do.
   */
  constructor(readonly setting: string, reason: string) {
    super(`${setting}: ${reason}`);
    this.name = "ConfigError";
  }
}

const DEFAULT_LIMITS: Limits = {
  maxBodyBytes: 1024 * 1024,
  maxBatchEvents: 1000,
  maxPropertiesBytes: 32 * 1024,
  statementTimeoutMs: 8000,
  bodyTimeoutMs: 30_000,
  maxBodiesInFlight: 64,
  maxIngestKeyFailures: 20,
};

const DEFAULT_FORWARDER: ForwarderConfig = {
  batchSize: 500,
  pollIntervalMs: 1000,
  minBackoffMs: 1000,
  maxBackoffMs: 60_000,
};

/**
 * Checks a port number (0 to 65535), given as a number or as the digits of one.
 *
 * @param setting The environment variable or field, for the message.
 * @param value The port.
 * @returns The port as a number.
 * @throws {ConfigError} When it is not a port number.
 */
export function checkPort(setting: string, value: number | string): number {
  const port = typeof value === "string" && /^\d+$/.test(value) ? Number(value) : value;
  if (typeof port !== "number" || !Number.isInteger(port) || port < 0 || port > 65535) {
    throw new ConfigError(
      setting,
      `must be a port number (0-65535), not ${JSON.stringify(value)}`,
    );
  }
  return port;
}

/**
 * Checks an ingest key: at least 16 characters.
 *
 * @param setting The environment variable or field, for the message.
 * @param key The key.
 * @returns The key.
 * @throws {ConfigError} When it is too short.
 */
export function checkIngestKey(setting: string, key: string): string {
  if (key.length < 16) throw new ConfigError(setting, "must be at least 16 characters");
  return key;
}

/**
 * Checks a list of trusted proxies: each an IP address or a CIDR range.
 *
 * @param setting The environment variable or field, for the message.
 * @param entries The addresses and ranges, trimmed.
 * @param hint How to write the setting, added to the message.
 * @returns The entries.
 * @throws {ConfigError} Naming the first entry that is neither.
 */
export function checkTrustedProxies(
  setting: string,
  entries: string[],
  hint: string,
): string[] {
  for (const entry of entries) {
    if (!parseAddressRange(entry)) {
      throw new ConfigError(setting, `"${entry}" is not an IP address or CIDR range${hint}`);
    }
  }
  return entries;
}

function positiveInteger(setting: string, value: number): number {
  if (!Number.isInteger(value) || value < 1) {
    throw new ConfigError(setting, `must be a positive integer, not ${value}`);
  }
  return value;
}

/**
 * Checks a header name setting (letters, digits and dashes), lower-cased; empty is unset.
 *
 * @param setting The setting's name, for the error.
 * @param value The header name.
 * @returns The lower-case name, or undefined.
 */
export function checkHeaderName(setting: string, value: string | undefined): string | undefined {
  const name = value?.trim().toLowerCase();
  if (!name) return undefined;
  if (!/^[a-z0-9-]{1,64}$/.test(name)) {
    throw new ConfigError(
      setting,
      `must be a header name (letters, digits, dashes), not "${value}"`,
    );
  }
  return name;
}

/**
 * Fills in the defaults of a configuration and checks it.
 *
 * @param input The configuration as written.
 * @returns The complete configuration.
 *
 * @example A configuration for an embedded database on port 8080
 * ```ts
 * export default defineConfig({ port: 8080 });
 * ```
 */
export function defineConfig(input: BeaconConfigInput = {}): BeaconConfig {
  const database = input.database ?? { kind: "embedded", dataDir: "./data" };
  const port = checkPort("port", input.port ?? 8000);
  const limits = { ...DEFAULT_LIMITS, ...input.limits };
  for (const [key, value] of Object.entries(limits)) {
    positiveInteger(`limits.${key}`, value);
  }
  const forwarder = { ...DEFAULT_FORWARDER, ...input.forwarder };
  for (const [key, value] of Object.entries(forwarder)) {
    positiveInteger(`forwarder.${key}`, value);
  }
  const plugins = input.plugins ?? [];
  const names = new Set<string>();
  for (const plugin of plugins) {
    if (!/^[a-z][a-z0-9_]*$/.test(plugin.name)) {
      throw new ConfigError(
        "plugins",
        `"${plugin.name}" is not a snake_case name`,
      );
    }
    if (names.has(plugin.name)) {
      throw new ConfigError(
        "plugins",
        `two plugins are named "${plugin.name}"`,
      );
    }
    names.add(plugin.name);
  }
  if (input.ingestKey !== undefined) checkIngestKey("ingestKey", input.ingestKey);
  if (input.posthogProjectKey !== undefined) {
    checkIngestKey("posthogProjectKey", input.posthogProjectKey);
  }
  const days = input.rawRetentionDays;
  if (days !== undefined && (!Number.isInteger(days) || days < 1 || days > 36_500)) {
    throw new ConfigError("rawRetentionDays", "must be a whole number of days from 1 to 36500");
  }
  const auth = input.auth ?? { mode: "local" };
  if (auth.mode === "supabase" && !auth.jwksUrl && !auth.jwtSecret) {
    throw new ConfigError(
      "auth",
      "Supabase mode needs a JWKS URL or the project's JWT secret",
    );
  }
  const trustedProxies = checkTrustedProxies(
    "trustedProxies",
    (input.trustedProxies ?? []).map((entry) => entry.trim()),
    " (e.g. 10.0.0.0/8, ::1)",
  );
  const sql = input.sql && resolveSqlPort(input.sql, { embedded: database.kind === "embedded" });
  if (sql && "problem" in sql) throw new ConfigError(sql.problem.setting, sql.problem.reason);
  const site = { ...ROOT_SITE, ...input.site };
  for (const key of ["basePath", "publicPath"] as const) {
    if (!isPathPrefix(site[key])) {
      throw new ConfigError(`site.${key}`, `must be "" or like "/beacon", not "${site[key]}"`);
    }
  }
  const drain = { budgetMs: 20_000, ...input.drain };
  positiveInteger("drain.budgetMs", drain.budgetMs);
  return {
    site,
    drain,
    port,
    hostname: input.hostname ?? "0.0.0.0",
    database,
    seedDemoData: input.seedDemoData ?? database.kind === "embedded",
    auth,
    ingestKey: input.ingestKey,
    posthogProjectKey: input.posthogProjectKey,
    plugins,
    limits,
    forwarder,
    nightly: input.nightly ?? "auto",
    hourlyRollup: input.hourlyRollup ?? true,
    rawRetentionDays: days,
    admin: input.admin,
    islandsDir: input.islandsDir ?? new URL("../static/_islands", import.meta.url).pathname,
    trustedProxies,
    clientAddressHeader: checkHeaderName("clientAddressHeader", input.clientAddressHeader),
    sql: sql?.config,
  };
}
