/**
 * Beacon's configuration: its shape, its defaults, and how it is read from the
 * environment. `fresh.config.ts` calls {@linkcode defineConfig}; everything else receives
 * the resulting object and never reads the environment itself.
 *
 * @module
 */
import type { BeaconPlugin } from "../plugins/mod.ts";
import { posthog } from "../plugins/posthog.ts";
import { webhook } from "../plugins/webhook.ts";
import { parseAddressRange } from "./client_address.ts";

/** Where the data lives. */
export type DatabaseConfig =
  | { kind: "embedded"; dataDir: string }
  | { kind: "postgres"; url: string };

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

/** How the forwarder feeds plugins. */
export interface ForwarderConfig {
  /** Most events handed to a plugin at once. */
  batchSize: number;
  /** How often to look for new events when idle, in milliseconds. */
  pollIntervalMs: number;
  /** First retry delay after a failure, in milliseconds (doubles each time). */
  minBackoffMs: number;
  /** Longest retry delay, in milliseconds. */
  maxBackoffMs: number;
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
  /** The plugins every stored event is forwarded to. */
  plugins: BeaconPlugin[];
  /** Request limits. */
  limits: Limits;
  /** Plugin delivery. */
  forwarder: ForwarderConfig;
  /**
   * Run the nightly aggregation from Beacon itself: `auto` does so only where pg_cron has
   * not scheduled it.
   */
  nightly: "auto" | "always" | "never";
  /** The superuser to create on the very first start (local accounts only). */
  admin?: { email: string; password: string };
  /** Where the built island bundles are served from. */
  islandsDir: string;
  /**
   * Reverse proxies (IP addresses and CIDR ranges) whose `X-Forwarded-For` and
   * `X-Forwarded-Proto` are believed. Empty: those headers are ignored.
   */
  trustedProxies: string[];
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

function positiveInteger(setting: string, value: number): number {
  if (!Number.isInteger(value) || value < 1) {
    throw new ConfigError(setting, `must be a positive integer, not ${value}`);
  }
  return value;
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
  const port = input.port ?? 8000;
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new ConfigError(
      "port",
      `must be an integer between 0 and 65535, not ${port}`,
    );
  }
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
  if (input.ingestKey !== undefined && input.ingestKey.length < 16) {
    throw new ConfigError("ingestKey", "must be at least 16 characters");
  }
  const auth = input.auth ?? { mode: "local" };
  if (auth.mode === "supabase" && !auth.jwksUrl && !auth.jwtSecret) {
    throw new ConfigError(
      "auth",
      "Supabase mode needs a JWKS URL or the project's JWT secret",
    );
  }
  const trustedProxies = (input.trustedProxies ?? []).map((entry) => entry.trim());
  for (const entry of trustedProxies) {
    if (!parseAddressRange(entry)) {
      throw new ConfigError(
        "trustedProxies",
        `"${entry}" is not an IP address or CIDR range (e.g. 10.0.0.0/8, ::1)`,
      );
    }
  }
  return {
    port,
    hostname: input.hostname ?? "0.0.0.0",
    database,
    seedDemoData: input.seedDemoData ?? database.kind === "embedded",
    auth,
    ingestKey: input.ingestKey,
    plugins,
    limits,
    forwarder,
    nightly: input.nightly ?? "auto",
    admin: input.admin,
    islandsDir: input.islandsDir ?? new URL("../static/_islands", import.meta.url).pathname,
    trustedProxies,
  };
}

function url(setting: string, value: string): string {
  try {
    const parsed = new URL(value);
    if (parsed.protocol !== "http:" && parsed.protocol !== "https:") {
      throw new Error();
    }
    return value.replace(/\/+$/, "");
  } catch {
    throw new ConfigError(setting, `must be an http(s) URL, not "${value}"`);
  }
}

/**
 * Reads the settings Beacon takes from the environment, with their documented defaults:
 * `PORT` (8000), `BEACON_DATA_DIR` (`./data`), `DATABASE_URL` (unset: embedded),
 * `BEACON_SEED` (`true`/`false`; default: true when embedded), `BEACON_INGEST_KEY`
 * (generated on first start), `SUPABASE_URL`, `SUPABASE_JWKS_URL`, `SUPABASE_JWT_SECRET`,
 * `SUPABASE_PUBLISHABLE_KEY` (or `SUPABASE_ANON_KEY`), `POSTHOG_API_KEY`, `POSTHOG_HOST`,
 * `BEACON_WEBHOOK_URL`, `BEACON_WEBHOOK_SECRET`, `BEACON_ADMIN_EMAIL`, `BEACON_ADMIN_PASSWORD`,
 * `BEACON_TRUSTED_PROXIES` (comma-separated IPs / CIDR ranges; default none).
 *
 * @param env The environment, e.g. `Deno.env.toObject()`.
 * @returns The configuration input those settings describe.
 */
export function configFromEnv(
  env: Record<string, string | undefined>,
): BeaconConfigInput {
  const get = (name: string) => {
    const value = env[name];
    return value === undefined || value === "" ? undefined : value;
  };
  const input: BeaconConfigInput = { plugins: [] };
  const port = get("PORT");
  if (port !== undefined) {
    const n = Number(port);
    if (!/^\d+$/.test(port) || n > 65535) {
      throw new ConfigError(
        "PORT",
        `must be a port number (0-65535), not "${port}"`,
      );
    }
    input.port = n;
  }
  const databaseUrl = get("DATABASE_URL");
  if (databaseUrl) {
    if (!/^postgres(ql)?:\/\//.test(databaseUrl)) {
      throw new ConfigError(
        "DATABASE_URL",
        "must start with postgres:// or postgresql://",
      );
    }
    input.database = { kind: "postgres", url: databaseUrl };
  } else {
    input.database = {
      kind: "embedded",
      dataDir: get("BEACON_DATA_DIR") ?? "./data",
    };
  }
  const seed = get("BEACON_SEED");
  if (seed !== undefined) {
    if (seed !== "true" && seed !== "false") {
      throw new ConfigError(
        "BEACON_SEED",
        `must be true or false, not "${seed}"`,
      );
    }
    input.seedDemoData = seed === "true";
  }
  const ingestKey = get("BEACON_INGEST_KEY");
  if (ingestKey !== undefined) {
    if (ingestKey.length < 16) {
      throw new ConfigError(
        "BEACON_INGEST_KEY",
        "must be at least 16 characters",
      );
    }
    input.ingestKey = ingestKey;
  }
  const supabaseUrl = get("SUPABASE_URL");
  const jwksUrl = get("SUPABASE_JWKS_URL");
  const jwtSecret = get("SUPABASE_JWT_SECRET");
  if (supabaseUrl || jwksUrl || jwtSecret) {
    const base = supabaseUrl ? url("SUPABASE_URL", supabaseUrl) : undefined;
    if (jwtSecret !== undefined && jwtSecret.length < 32) {
      throw new ConfigError(
        "SUPABASE_JWT_SECRET",
        "must be at least 32 characters",
      );
    }
    input.auth = {
      mode: "supabase",
      url: base,
      jwksUrl: jwksUrl
        ? url("SUPABASE_JWKS_URL", jwksUrl)
        : (base && !jwtSecret ? `${base}/auth/v1/.well-known/jwks.json` : undefined),
      jwtSecret,
      audience: "authenticated",
      publishableKey: get("SUPABASE_PUBLISHABLE_KEY") ?? get("SUPABASE_ANON_KEY"),
    };
  }
  const adminEmail = get("BEACON_ADMIN_EMAIL");
  const adminPassword = get("BEACON_ADMIN_PASSWORD");
  if (adminEmail || adminPassword) {
    if (!adminEmail || !/^[^@\s]+@[^@\s]+$/.test(adminEmail)) {
      throw new ConfigError(
        "BEACON_ADMIN_EMAIL",
        "must be an email address when BEACON_ADMIN_PASSWORD is set",
      );
    }
    if (!adminPassword || adminPassword.length < 8) {
      throw new ConfigError(
        "BEACON_ADMIN_PASSWORD",
        "must be at least 8 characters when BEACON_ADMIN_EMAIL is set",
      );
    }
    input.admin = { email: adminEmail, password: adminPassword };
  }
  const trustedProxies = get("BEACON_TRUSTED_PROXIES");
  if (trustedProxies !== undefined) {
    const entries = trustedProxies.split(",").map((entry) => entry.trim()).filter(Boolean);
    for (const entry of entries) {
      if (!parseAddressRange(entry)) {
        throw new ConfigError(
          "BEACON_TRUSTED_PROXIES",
          `"${entry}" is not an IP address or CIDR range; list them comma-separated, e.g. 10.0.0.0/8,::1`,
        );
      }
    }
    input.trustedProxies = entries;
  }
  const posthogKey = get("POSTHOG_API_KEY");
  const posthogHost = get("POSTHOG_HOST");
  if (posthogHost && !posthogKey) {
    throw new ConfigError(
      "POSTHOG_API_KEY",
      "is required when POSTHOG_HOST is set",
    );
  }
  if (posthogKey) {
    input.plugins!.push(posthog({
      apiKey: posthogKey,
      host: posthogHost ? url("POSTHOG_HOST", posthogHost) : undefined,
    }));
  }
  const webhookUrl = get("BEACON_WEBHOOK_URL");
  const webhookSecret = get("BEACON_WEBHOOK_SECRET");
  if (webhookUrl || webhookSecret) {
    if (!webhookUrl) {
      throw new ConfigError(
        "BEACON_WEBHOOK_URL",
        "is required when BEACON_WEBHOOK_SECRET is set",
      );
    }
    if (!webhookSecret || webhookSecret.length < 16) {
      throw new ConfigError(
        "BEACON_WEBHOOK_SECRET",
        "is required (at least 16 characters) when BEACON_WEBHOOK_URL is set",
      );
    }
    input.plugins!.push(
      webhook({
        url: url("BEACON_WEBHOOK_URL", webhookUrl),
        secret: webhookSecret,
      }),
    );
  }
  return input;
}
